import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { waitFor } from '@gpc/test-support';
import { expectNoAxeViolations } from './support/axe';
import { admittedCall, mediaFlows, startCallWorld } from './support/call';

const shots = '/tmp/callscreenshare';

/** Frames the patient's page has shown of the shared screen, and how large it shows them. */
const sharedScreen = (page: Page) =>
  page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>('#shared-screen video');
    const tile = document.querySelector<HTMLElement>('.gpc-tile');
    return video
      ? {
          frames: video.getVideoPlaybackQuality().totalVideoFrames,
          videoWidth: video.videoWidth,
          shownWidth: video.getBoundingClientRect().width,
          tileWidth: tile?.getBoundingClientRect().width ?? 0,
        }
      : undefined;
  });

describe('the clinician shares their screen in Chromium, and the patient sees it large', async () => {
  // triage makes calls and signs every token; the call node verifies them with triage's JWKS
  // headless Chromium's getDisplayMedia, with the fake media switches every browser test has, picks
  // a synthetic 1280x720 screen ("screen:-3:0") at once, on an http(s) page (not about:blank)
  const world = await startCallWorld({ after });
  const { browser } = world;
  const phone = { viewport: { width: 390, height: 844 }, isMobile: true };
  mkdirSync(shots, { recursive: true });

  it('shows the shared screen large on the patient’s phone, decoding frames, and goes back to the usual layout when sharing stops', async () => {
    // the patient on a phone-size screen
    const { clinician, patient } = await admittedCall(world, { clinician: browser, patient: browser }, phone);
    await mediaFlows(patient, 'patient', 20_000);
    assert.equal(await patient.locator('#share-screen').isVisible(), false, 'only the clinician may share');

    await clinician.getByRole('button', { name: 'Share screen' }).click();
    await clinician.getByRole('button', { name: 'Stop sharing' }).waitFor({ timeout: 10_000 });
    await patient.locator('#shared-screen').waitFor({ timeout: 15_000 });
    const first = await waitFor('the patient to show frames of the shared screen', async () => {
      const shown = await sharedScreen(patient);
      return shown && shown.frames > 0 && shown.videoWidth > 0 ? shown : undefined;
    });
    const later = await waitFor(
      'more frames of the shared screen',
      async () => {
        const shown = await sharedScreen(patient);
        return shown && shown.frames > first.frames ? shown : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    assert.ok(
      later.shownWidth > later.tileWidth,
      `shown larger than the clinician's camera (${later.shownWidth} vs ${later.tileWidth} px)`,
    );
    assert.match(await patient.locator('#shared-screen figcaption').innerText(), /is sharing their screen/);
    await patient.screenshot({ path: `${shots}/patient-phone-screen-shared.png`, fullPage: true });
    await clinician.screenshot({ path: `${shots}/clinician-sharing.png`, fullPage: true });
    await expectNoAxeViolations(patient, 'patient page showing a shared screen');

    await clinician.getByRole('button', { name: 'Stop sharing' }).click();
    await patient.locator('#shared-screen').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await patient.locator('.gpc-call--screen').count(), 0, 'the usual layout again');
    await clinician.getByRole('button', { name: 'Share screen' }).waitFor({ timeout: 5000 });
    // the call goes on: the clinician's camera and microphone still reach the patient
    await mediaFlows(patient, 'patient after sharing stopped');
    await patient.screenshot({ path: `${shots}/patient-phone-after-sharing.png`, fullPage: true });
  });

  it('offers only a window or a tab, never a whole screen, and stops for everyone when the browser’s own control ends the capture', async () => {
    // what the page asks the browser for, seen before the browser answers it
    const { clinician, patient } = await admittedCall(
      world,
      { clinician: browser, patient: browser },
      phone,
      (page) =>
        page.addInitScript(() => {
          const asked: unknown[] = [];
          (window as unknown as { __displayMediaAsked: unknown[] }).__displayMediaAsked = asked;
          const original = navigator.mediaDevices.getDisplayMedia.bind(navigator.mediaDevices);
          navigator.mediaDevices.getDisplayMedia = (options?: DisplayMediaStreamOptions) => {
            asked.push(options);
            return original(options);
          };
        }),
    );
    await mediaFlows(patient, 'patient', 20_000);

    await clinician.getByRole('button', { name: 'Share screen' }).click();
    await clinician
      .getByText('You are sharing your screen with everyone in the call.')
      .waitFor({ timeout: 10_000 });
    await patient.locator('#shared-screen').waitFor({ timeout: 15_000 });
    const asked = await clinician.evaluate(
      () => (window as unknown as { __displayMediaAsked: Record<string, unknown>[] }).__displayMediaAsked,
    );
    assert.equal(asked.length, 1);
    assert.equal(asked[0]?.monitorTypeSurfaces, 'exclude', 'no whole screen offered');
    assert.equal(asked[0]?.audio, false, 'no sound of the clinician’s computer');

    // the browser's own "Stop sharing" ends the captured track and fires 'ended' on it
    await clinician.evaluate(() => {
      const track = (window.__call as unknown as { screenTrack?: MediaStreamTrack }).screenTrack;
      if (!track) throw new Error('no screen track');
      track.stop();
      track.dispatchEvent(new Event('ended'));
    });
    await patient.locator('#shared-screen').waitFor({ state: 'detached', timeout: 10_000 });
    await clinician.getByRole('button', { name: 'Share screen' }).waitFor({ timeout: 5000 });
    assert.equal(
      await clinician.getByText('You are sharing your screen with everyone in the call.').count(),
      0,
      'the clinician is told sharing stopped',
    );
    await mediaFlows(patient, 'patient after the browser stopped the sharing');
  });
});
