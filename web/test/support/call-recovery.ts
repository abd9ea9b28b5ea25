// How the fault tests see a call page come back: which receiving transport it is on, what that
// transport has decoded, and every state the page went through since the test started watching.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { waitFor } from '@gpc/test-support/wait';
import { mediaFlows } from './call';
import type { CallState } from '../../src/call/call-client';

/** What a call page receives now: on which transport, and how much it has decoded there. */
export interface Reception {
  /** The receiving transport's id; a rejoin makes a new one. */
  transportId: string | undefined;
  framesDecoded: number;
  totalSamplesReceived: number;
}

declare global {
  interface Window {
    /** The call's states since `watchStates`, for the fault tests. */
    __states?: CallState[];
  }
}

/** The page's reception: its CallClient's receiving transport and what arrived on it. */
export const reception = (page: Page): Promise<Reception> =>
  page.evaluate(async () => {
    const client = window.__call;
    // the receiving transport is the client's own; its id is how a test tells a rejoin happened
    const transport = (client as unknown as { recvTransport?: { id: string } } | undefined)?.recvTransport;
    const stats = (await client?.inboundStats()) ?? { framesDecoded: 0, totalSamplesReceived: 0 };
    return { transportId: transport?.id, ...stats };
  });

/** From now on, the page records every state its call goes through (in `window.__states`). */
export async function watchStates(page: Page): Promise<void> {
  await page.evaluate(() => {
    const states: CallState[] = [];
    window.__states = states;
    window.__call?.on('state', (state) => states.push(state));
  });
}

/** The states the page went through since `watchStates`. */
export const statesSeen = (page: Page): Promise<CallState[]> => page.evaluate(() => window.__states ?? []);

/**
 * Waits until the page receives media again on a transport other than `before`'s: video frames
 * and audio samples decoded there, and more video frames at the next look. Resolves to the time
 * (Date.now()) of the first look that saw them, so a test can say how long recovery took.
 */
export async function mediaBackOnNewTransport(
  page: Page,
  label: string,
  before: Reception,
  timeoutMs = 15_000,
): Promise<number> {
  let last: Reception | undefined;
  let firstSeen: number | undefined;
  await waitFor(
    () => `${label}: new media on a new transport (last ${JSON.stringify(last)})`,
    async () => {
      const now = await reception(page);
      const fresh = now.transportId !== undefined && now.transportId !== before.transportId;
      const arriving = fresh && now.framesDecoded > 0 && now.totalSamplesReceived > 0;
      if (!arriving) firstSeen = undefined;
      else if (firstSeen === undefined) firstSeen = Date.now();
      const increasing =
        arriving &&
        last !== undefined &&
        last.transportId === now.transportId &&
        now.framesDecoded > last.framesDecoded;
      last = now;
      return increasing;
    },
    { timeoutMs, intervalMs: 100 },
  );
  return firstSeen!;
}

/** Waits until the page's call is in the call (joined, media flowing or about to). */
export const inCall = (page: Page, timeout = 20_000) =>
  page.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, { timeout });

/**
 * After a fault, both pages are back in the call as they were: the patient never waited again
 * (watched since `watchStates`), the clinician is not asked to admit them again, and media
 * flows both ways.
 */
export async function backWithoutNewAdmission(patient: Page, clinician: Page, where: string): Promise<void> {
  await inCall(patient);
  await inCall(clinician);
  assert.ok(!(await statesSeen(patient)).includes('waiting'), 'the patient did not wait again');
  assert.ok(
    await patient.locator('#step-call').isVisible(),
    'the patient is in the call, not the waiting room',
  );
  assert.equal(
    await clinician.getByRole('button', { name: /^Admit / }).count(),
    0,
    'the clinician is not asked to admit the patient again',
  );
  await mediaFlows(patient, `patient ${where}`);
  await mediaFlows(clinician, `clinician ${where}`);
}
