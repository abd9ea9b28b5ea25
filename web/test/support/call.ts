import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { seedConsultation, startTriage, type TestLifetime, type TestTriage } from '@gpc/test-support';
import { waitFor } from '@gpc/test-support/wait';
import {
  startCallNode,
  type CallNode,
  type CallNodeOptions,
} from '../../../signalling/test/support/call-node';
import { launchBrowser, newLocalPage } from './browser';
import { startStaticServer, type RunningStaticServer } from './static';

export type InboundStats = { framesDecoded: number; totalSamplesReceived: number };

/** The page's call statistics (the pages expose their CallClient as `window.__call`). */
export const inboundStats = (page: Page): Promise<InboundStats> =>
  page.evaluate(() => window.__call?.inboundStats() ?? { framesDecoded: 0, totalSamplesReceived: 0 });

/** Waits until both video frames and audio samples keep arriving on this page. */
export async function mediaFlows(
  page: Page,
  label: string,
  timeoutMs = 15_000,
  pollMs = 1000,
): Promise<void> {
  let last = await inboundStats(page);
  await new Promise((resolve) => setTimeout(resolve, pollMs));
  await waitFor(
    () => `${label}: media to flow (last ${JSON.stringify(last)})`,
    async () => {
      const now = await inboundStats(page);
      const flowing =
        now.framesDecoded > last.framesDecoded && now.totalSamplesReceived > last.totalSamplesReceived;
      last = now;
      return flowing;
    },
    { timeoutMs, intervalMs: pollMs },
  );
}

/**
 * Drops a port's UDP and TCP traffic with a nftables table of the caller's own for `milliseconds`,
 * then deletes that table (always), touching nothing else. Needs root.
 */
export async function cutNetwork(port: number, milliseconds: number): Promise<void> {
  const table = `gpccalltest${randomBytes(3).toString('hex')}`;
  const nft = (...args: string[]) => execFileSync('nft', args, { stdio: 'pipe' });
  try {
    nft('add', 'table', 'inet', table);
    nft('add', 'chain', 'inet', table, 'input', '{ type filter hook input priority 0; policy accept; }');
    nft('add', 'rule', 'inet', table, 'input', 'udp', 'dport', String(port), 'drop');
    nft('add', 'rule', 'inet', table, 'input', 'tcp', 'dport', String(port), 'drop');
    await new Promise((resolve) => setTimeout(resolve, milliseconds));
  } finally {
    nft('delete', 'table', 'inet', table);
  }
}

/**
 * Drops UDP to a port, as a network that lets only TCP out does, with a nftables table of its own,
 * until the returned function deletes that table (call it in a `finally`). Needs root.
 */
export function dropUdpTo(port: number): () => void {
  const table = `gpcudptest${randomBytes(3).toString('hex')}`;
  const nft = (...args: string[]) => execFileSync('nft', args, { stdio: 'pipe' });
  nft('add', 'table', 'inet', table);
  try {
    nft('add', 'chain', 'inet', table, 'input', '{ type filter hook input priority 0; policy accept; }');
    nft('add', 'rule', 'inet', table, 'input', 'udp', 'dport', String(port), 'drop');
  } catch (error) {
    nft('delete', 'table', 'inet', table);
    throw error;
  }
  return () => nft('delete', 'table', 'inet', table);
}

/**
 * Starts a call for a request from the clinician page, signed in with this staff access token
 * (triage makes the call; the patient's name comes from the request), and returns the patient's link.
 * `search` goes on the page's address (e.g. `?relay=tls`).
 */
export async function startCallAsClinician(
  clinician: Page,
  webUrl: string,
  staffToken: string,
  consultationId: string,
  search = '',
): Promise<string> {
  await clinician.goto(`${webUrl}clinician.html${search}#t=${staffToken}`);
  await clinician.fill('#consultation-id', consultationId);
  await clinician.click('button[type=submit]');
  await clinician.waitForFunction(() =>
    document.getElementById('patient-link')?.getAttribute('href')?.includes('#t='),
  );
  // generous: on 2 busy cores a page's first connection (through a TURN relay, say) can take long
  await clinician.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, {
    timeout: 60_000,
  });
  return (await clinician.locator('#patient-link').getAttribute('href')) ?? '';
}

/** Opens the patient's link (with `search` on its address), passes the device check and joins the waiting room. */
export async function joinAsPatient(
  patient: Page,
  webUrl: string,
  patientLink: string,
  search = '',
): Promise<void> {
  await patient.goto(`${webUrl}call.html${search}${new URL(patientLink).hash}`);
  await patient.locator('#join:not([disabled])').waitFor({ timeout: 30_000 });
  await patient.click('#join');
  await patient.locator('#step-waiting').waitFor({ state: 'visible', timeout: 30_000 });
}

/**
 * A call on a new request of practice A with its patient admitted: the clinician's page (signed in
 * as its clinician) in `browsers.clinician`, the patient's in `browsers.patient` (a Chromium of its
 * own for a test that stops it), with `patientPage` options such as a phone's viewport.
 */
export async function admittedCall(
  { triage, web }: Pick<CallWorld, 'triage' | 'web'>,
  browsers: { clinician: Browser; patient: Browser },
  patientPage?: BrowserContextOptions,
  /** Runs on the clinician's page before it loads (e.g. `addInitScript`). */
  prepareClinician?: (clinician: Page) => Promise<unknown>,
): Promise<{ clinician: Page; patient: Page; patientLink: string }> {
  const clinician = await newLocalPage(browsers.clinician);
  await prepareClinician?.(clinician);
  const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
  const token = triage.as(triage.practiceA, 'clinician').token;
  const patientLink = await startCallAsClinician(clinician, web.url, token, consultationId);
  const patient = await newLocalPage(browsers.patient, patientPage);
  await joinAsPatient(patient, web.url, patientLink);
  await clinician.getByRole('button', { name: 'Admit Pat Example' }).click();
  return { clinician, patient, patientLink };
}

/** What a browser test of calls runs against: triage, a call node trusting it, the built pages, Chromium. */
export interface CallWorld {
  triage: TestTriage;
  node: CallNode;
  web: RunningStaticServer;
  browser: Browser;
}

/**
 * Triage (listening; it makes calls and signs every token), a call node verifying triage's tokens
 * with its JWKS (`node` options beside that), the production web server of the built pages routing
 * to both, and a Chromium; all torn down after the file, last-in first-out.
 */
export async function startCallWorld(
  t: TestLifetime,
  node: Omit<CallNodeOptions, 'jwksUrl'> = {},
): Promise<CallWorld> {
  const triage = await startTriage(t, { listen: true });
  const callNode = await startCallNode({ jwksUrl: `${triage.url}/.well-known/jwks.json`, ...node });
  triage.after(() => callNode.close());
  const web = await startStaticServer({ triageUrl: triage.url, signallingUrl: callNode.url });
  triage.after(() => web.close());
  const browser = await launchBrowser();
  triage.after(() => browser.close());
  return { triage, node: callNode, web, browser };
}
