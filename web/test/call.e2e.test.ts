import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startCallNode, type CallNode } from '../../signalling/test/support/call-node';
import { launchBrowser, newLocalPage, startWebServer, type RunningWebServer } from './support/browser';

type Stats = { framesDecoded: number; totalSamplesReceived: number };
const stats = (page: Page): Promise<Stats> =>
  page.evaluate(() => window.__call?.inboundStats() ?? { framesDecoded: 0, totalSamplesReceived: 0 });

/** Waits until both video frames and audio samples keep arriving on this page. */
async function mediaFlows(page: Page, label: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Stats = await stats(page);
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await stats(page);
    if (now.framesDecoded > last.framesDecoded && now.totalSamplesReceived > last.totalSamplesReceived)
      return;
    last = now;
  }
  assert.fail(`${label}: media did not flow within ${timeoutMs} ms (last ${JSON.stringify(last)})`);
}

/** Drops this port's UDP and TCP traffic with a nftables table of the test's own, then removes it. */
async function cutNetwork(port: number, milliseconds: number): Promise<void> {
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

describe('video call in Chromium: waiting room, admission, media both ways, recovery', () => {
  let node: CallNode;
  let web: RunningWebServer;
  let browser: Browser;

  before(async () => {
    node = await startCallNode();
    web = await startWebServer({ signallingUrl: node.url });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    await node?.close();
  });

  it('connects a patient and a clinician and survives a 4-second network cut', async () => {
    const clinician = await newLocalPage(browser);
    await clinician.goto(`${web.url}clinician.html#t=${node.staffToken()}`);
    await clinician.fill('#consultation-id', 'C-1001');
    await clinician.fill('#patient-name', 'Pat Example');
    await clinician.click('button[type=submit]');
    await clinician.waitForFunction(() =>
      document.getElementById('patient-link')?.getAttribute('href')?.includes('#t='),
    );
    const patientLink = (await clinician.locator('#patient-link').getAttribute('href')) ?? '';
    await clinician.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, {
      timeout: 15_000,
    });

    const patient = await newLocalPage(browser);
    await patient.goto(`${web.url}call.html${new URL(patientLink).hash}`);
    await patient.locator('#join:not([disabled])').waitFor({ timeout: 10_000 });
    assert.equal(new URL(patient.url()).hash, '', 'the token is taken out of the address bar');
    await patient.screenshot({ path: '/tmp/call-device-check.png' });
    await patient.click('#join');
    await patient.locator('#step-waiting').waitFor({ state: 'visible', timeout: 10_000 });
    await patient.screenshot({ path: '/tmp/call-waiting.png' });

    const admit = clinician.getByRole('button', { name: 'Admit Pat Example' });
    await admit.waitFor({ timeout: 10_000 });
    await clinician.screenshot({ path: '/tmp/call-clinician-waiting.png', fullPage: true });
    await admit.click();
    await patient.locator('#step-call').waitFor({ state: 'visible', timeout: 15_000 });

    await mediaFlows(patient, 'patient');
    await mediaFlows(clinician, 'clinician');
    await patient.screenshot({ path: '/tmp/call-patient-in-call.png' });
    await clinician.screenshot({ path: '/tmp/call-clinician-in-call.png', fullPage: true });

    await cutNetwork(node.rtcPort, 4000);
    await mediaFlows(patient, 'patient after the cut', 20_000);
    await mediaFlows(clinician, 'clinician after the cut', 20_000);
  });

  it('shows a clear page for a link that is not valid', async () => {
    const page = await newLocalPage(browser);
    await page.goto(`${web.url}call.html#t=${'x'.repeat(20)}.${'y'.repeat(20)}.${'z'.repeat(20)}`);
    await page.locator('#join:not([disabled])').waitFor({ timeout: 10_000 });
    await page.click('#join');
    await page
      .getByRole('heading', { name: 'This link has expired or is not valid' })
      .waitFor({ timeout: 10_000 });
  });

  it('explains in plain words when the browser refuses the camera', async () => {
    const page = await newLocalPage(browser);
    await page.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () =>
        Promise.reject(new DOMException('denied', 'NotAllowedError'));
    });
    await page.goto(`${web.url}call.html#t=a.b.c`);
    await page
      .getByText('Your browser is not letting this page use your camera or microphone')
      .waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#problem-text').innerText(), /choose Allow/);
  });
});
