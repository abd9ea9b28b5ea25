import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  collectPageErrors,
  launchBrowser,
  newLocalPage,
  startWebServer,
  type RunningWebServer,
} from './support/browser';

const nhsBlue = 'rgb(0, 94, 184)';

void describe('landing page in Chromium', () => {
  let web: RunningWebServer | undefined;
  let browser: Browser | undefined;
  let screenshotDir: string | undefined;

  before(async () => {
    [web, browser, screenshotDir] = await Promise.all([
      startWebServer(),
      launchBrowser(),
      mkdtemp(path.join(tmpdir(), 'gpc-web-smoke-')),
    ]);
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    if (screenshotDir) await rm(screenshotDir, { recursive: true, force: true });
  });

  void it('is titled GP Consult, styled by NHS.UK frontend, and accessible by keyboard', async () => {
    assert.ok(web && browser && screenshotDir);
    const page = await newLocalPage(browser);
    const errors = collectPageErrors(page);

    const response = await page.goto(web.url);
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), 'GP Consult');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');

    // Unstyled, a <header> is transparent; NHS.UK frontend paints it NHS blue.
    const header = page.getByRole('banner');
    assert.equal(await header.evaluate((element) => getComputedStyle(element).backgroundColor), nhsBlue);
    assert.equal(await page.getByRole('main').count(), 1);
    assert.equal(await page.getByRole('contentinfo').count(), 1);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'GP Consult');

    // NHS.UK frontend's script ran (it sets up components only under this class).
    assert.match((await page.locator('body').getAttribute('class')) ?? '', /\bnhsuk-frontend-supported\b/);

    // The first Tab lands on the skip link, which leads to the main content.
    await page.keyboard.press('Tab');
    const focused = page.locator(':focus');
    assert.equal((await focused.textContent())?.trim(), 'Skip to main content');
    assert.equal(await focused.getAttribute('href'), '#maincontent');

    const screenshot = path.join(screenshotDir, 'landing.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    const png = await readFile(screenshot);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');

    assert.deepEqual(errors, []);
    await page.close();
  });
});
