import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { seedConsultation, startTriage, waitFor } from '@gpc/test-support';
import { EmbeddingOrigins } from '../src/embedding';
import { expectNoAxeViolations } from './support/axe';
import { launchBrowser, newLocalPage } from './support/browser';
import { builtPages, startStaticServer } from './support/static';

/** Where this test's screenshots go, to be looked at. */
const shots = '/tmp/csp';

/**
 * Everything the browser says about the Content-Security-Policy on a page and in its frames: the
 * `securitypolicyviolation` events (recorded from before any script of the page runs) and the
 * console's "Refused to ..." lines.
 */
async function watchPolicy(
  page: Page,
): Promise<{ console: string[]; events: (frame?: Frame) => Promise<string[]> }> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) =>
      seen.push(`${event.effectiveDirective} ${event.blockedURI} (${event.sourceFile}:${event.lineNumber})`),
    );
  });
  const messages: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) messages.push(message.text());
  });
  return {
    console: messages,
    events: (frame = page.mainFrame()) =>
      frame.evaluate(() => [...(window as unknown as { cspViolations: string[] }).cspViolations]),
  };
}

/** A page on another origin, standing for a website: `/` is `body`'s HTML. */
async function startSite(
  body: (path: string) => string,
): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(
      `<!doctype html><html lang="en"><head><title>A website</title></head><body>${body(request.url ?? '/')}</body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the built pages under their Content-Security-Policy in Chromium, served by the production web server with the real triage behind it', async () => {
  const {
    as,
    db,
    practiceA,
    practiceB,
    url: triageUrl,
    ...triage
  } = await startTriage({ after }, { listen: true, live: {}, attachments: true });
  // a long cache, so a test can see the server's list lag a change the form reads fresh from triage
  const web = await startStaticServer({
    triageUrl,
    embedding: new EmbeddingOrigins({ triageUrl, ttlMs: 120_000 }),
  });
  triage.after(() => web.close());
  const service = new URL(web.url).origin;
  const browser = await launchBrowser();
  triage.after(() => browser.close());
  await mkdir(shots, { recursive: true });

  // the practice's own website (listed in its settings) and somebody else's (not listed)
  let practiceSite = '';
  let otherSite = '';
  const widget = `<h1>Riverside Surgery</h1><script src="${web.url}widget.js" data-practice="A81001" async></script>`;
  const sites = await Promise.all([
    startSite((path) =>
      path.startsWith('/with-ad')
        ? `${widget}<iframe title="An advert" src="${otherSite}/advert"></iframe>`
        : widget,
    ),
    startSite((path) =>
      path.startsWith('/advert')
        ? '<p>An advert</p>'
        : path.startsWith('/frame')
          ? `<h1>Not the surgery</h1><iframe title="The form" src="${web.url}form.html?practice=${new URL(path, otherSite).searchParams.get('practice') ?? 'A81001'}"></iframe>`
          : widget,
    ),
  ]);
  for (const site of sites) triage.after(() => site.close());
  [practiceSite, otherSite] = sites.map((site) => site.origin) as [string, string];

  const setWebsites = async (origins: string[], practice = practiceA) => {
    const response = await as(practice, 'admin').inject({
      method: 'PATCH',
      url: '/practice',
      payload: { websiteOrigins: origins },
    });
    assert.equal(response.statusCode, 200, response.body);
  };
  await setWebsites([practiceSite]);

  async function signIn(page: Page, path: string, role: 'admin' | 'clinician'): Promise<void> {
    await page.goto(`${web.url}${path}`);
    const form = page.locator('#sign-in-form');
    await form.getByLabel('Practice code').fill(practiceA.odsCode);
    await form.getByLabel('Email address').fill(practiceA.staff[role].email);
    await form.getByLabel('Password', { exact: true }).fill(practiceA.staff[role].password);
    await form.getByRole('button', { name: 'Sign in' }).click();
  }

  it('loads every page with no Content-Security-Policy violation', async () => {
    await seedConsultation(db.pool, practiceA.id);
    const visits: { path: string; ready: (page: Page) => Promise<unknown>; role?: 'admin' | 'clinician' }[] =
      [
        { path: '', ready: (page) => page.getByRole('heading', { name: 'GP Consult', level: 1 }).waitFor() },
        {
          path: 'form.html?practice=A81001',
          ready: (page) => page.getByRole('heading', { name: 'What do you need help with?' }).waitFor(),
        },
        { path: 'thread.html', ready: (page) => page.locator('main').waitFor() },
        { path: 'call.html', ready: (page) => page.locator('main').waitFor() },
        { path: 'clinician.html', ready: (page) => page.locator('main').waitFor() },
        {
          path: 'staff.html',
          role: 'clinician',
          // a request open, with its answers, identity and GP record views
          ready: async (page) => {
            await page.locator('#queue-rows a').first().click();
            await page.getByRole('heading', { name: 'Answers' }).waitFor();
          },
        },
        {
          path: 'settings.html',
          role: 'admin',
          ready: (page) => page.getByRole('heading', { name: 'Practice websites' }).waitFor(),
        },
        {
          path: 'account.html',
          role: 'clinician',
          ready: (page) => page.getByRole('heading', { name: 'Your account', exact: true }).waitFor(),
        },
        {
          path: 'staff-admin.html',
          role: 'admin',
          ready: (page) => page.getByRole('heading', { name: 'Staff', exact: true }).waitFor(),
        },
        {
          path: 'widget-demo.html',
          ready: async (page) => {
            await page.getByRole('button', { name: 'Contact your GP surgery online' }).click();
            const form = page.frameLocator('iframe[title="Contact your GP surgery online"]');
            await form.getByRole('heading', { name: 'What do you need help with?' }).waitFor();
          },
        },
      ];
    // every page of the build is visited here: a new page fails this until it is added above
    const built = (await readdir(await builtPages())).filter((file) => file.endsWith('.html'));
    const visited = visits.map((visit) => visit.path.replace(/\?.*$/, '') || 'index.html');
    assert.deepEqual([...built].sort(), [...visited].sort(), 'the pages this test visits are the build’s');
    for (const visit of visits) {
      const page = await newLocalPage(browser, { viewport: { width: 1000, height: 800 } });
      const policy = await watchPolicy(page);
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      if (visit.role) await signIn(page, visit.path, visit.role);
      else await page.goto(`${web.url}${visit.path}`);
      await visit.ready(page);
      const name = visit.path.replace(/\.html.*$/, '') || 'index';
      await page.screenshot({ path: `${shots}/page-${name}.png`, fullPage: true });
      const violations = [];
      for (const frame of page.frames()) violations.push(...(await policy.events(frame)));
      assert.deepEqual(violations, [], `${name}: violations`);
      assert.deepEqual(policy.console, [], `${name}: the console`);
      assert.deepEqual(errors, [], `${name}: uncaught errors`);
      // NHS.UK frontend's start-up classes came from /js-enabled.js, not an inline script
      assert.match(
        (await page.locator('body').getAttribute('class')) ?? '',
        /nhsuk-frontend-supported/,
        name,
      );
      await page.close();
    }
  });

  it('does not run a script, event handler or style injected into a built page', async () => {
    const page = await newLocalPage(browser);
    const policy = await watchPolicy(page);
    await page.goto(`${web.url}form.html?practice=A81001`);
    await page.getByRole('heading', { name: 'What do you need help with?' }).waitFor();
    const outcome = await page.evaluate(async () => {
      const marks = window as unknown as Record<string, unknown>;
      const host = document.createElement('div');
      // what an injection into the page's markup would look like: a handler, a script, a style
      host.innerHTML =
        '<img src="/no-such-image.png" onerror="window.pwnedByHandler = true">' +
        '<p id="styled" style="color: rgb(255, 0, 0)">injected</p>';
      document.body.append(host);
      const script = document.createElement('script');
      script.textContent = 'window.pwnedByScript = true';
      document.body.append(script);
      const style = document.createElement('style');
      style.textContent = 'body { background-color: rgb(0, 255, 0) !important; }';
      document.head.append(style);
      const link = document.createElement('a');
      link.href = 'javascript:window.pwnedByUrl = true';
      document.body.append(link);
      link.click();
      await new Promise((resolve) => setTimeout(resolve, 300));
      return {
        handler: marks.pwnedByHandler ?? false,
        script: marks.pwnedByScript ?? false,
        url: marks.pwnedByUrl ?? false,
        colour: getComputedStyle(document.getElementById('styled')!).color,
        background: getComputedStyle(document.body).backgroundColor,
      };
    });
    assert.deepEqual(
      { handler: outcome.handler, script: outcome.script, url: outcome.url },
      { handler: false, script: false, url: false },
      'no injected script ran',
    );
    assert.notEqual(outcome.colour, 'rgb(255, 0, 0)', 'an injected style attribute is refused');
    assert.notEqual(outcome.background, 'rgb(0, 255, 0)', 'an injected <style> is refused');
    const violations = await policy.events();
    for (const directive of ['script-src-elem', 'script-src-attr', 'style-src-elem', 'style-src-attr'])
      assert.ok(
        violations.some((violation) => violation.startsWith(directive)),
        `${directive} reported: ${violations.join('; ')}`,
      );
    await page.close();
  });

  it('lets the pages send files only to the storage the server is configured with (connect-src)', async () => {
    const png =
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
    /** What a page of `server` gets when it asks for an upload and PUTs a photo there, as the form does. */
    const uploadFrom = async (server: string) => {
      const page = await newLocalPage(browser);
      const policy = await watchPolicy(page);
      await page.goto(`${server}form.html?practice=A81001`);
      await page.getByRole('heading', { name: 'What do you need help with?' }).waitFor();
      const outcome = await page.evaluate(async (base64) => {
        const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
        const granted = await fetch('/api/practices/A81001/uploads', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ contentType: 'image/png', size: bytes.length }),
        });
        const grant = (await granted.json()) as { url: string; headers: Record<string, string> };
        const status = await new Promise<number | 'refused'>((resolve) => {
          const request = new XMLHttpRequest();
          request.open('PUT', grant.url);
          for (const [name, value] of Object.entries(grant.headers)) request.setRequestHeader(name, value);
          request.onload = () => resolve(request.status);
          request.onerror = () => resolve('refused');
          request.send(new Blob([bytes], { type: 'image/png' }));
        });
        return { status, storage: new URL(grant.url).origin };
      }, png);
      const violations = await policy.events();
      await page.close();
      return { ...outcome, violations };
    };
    const refused = await uploadFrom(web.url);
    assert.equal(refused.status, 'refused', 'storage not named in the policy');
    assert.ok(refused.violations.some((violation) => violation.startsWith(`connect-src ${refused.storage}`)));

    const withStorage = await startStaticServer({ triageUrl, storageUrl: refused.storage });
    try {
      const sent = await uploadFrom(withStorage.url);
      assert.equal(sent.status, 200, 'WEB_STORAGE_URL lets the upload through');
      assert.deepEqual(sent.violations, []);
    } finally {
      await withStorage.close();
    }
  });

  it('opens the form in the widget on a website in the practice’s settings, and the form can close it', async () => {
    const page = await newLocalPage(browser, { viewport: { width: 1000, height: 800 } });
    const policy = await watchPolicy(page);
    await page.goto(`${practiceSite}/`);
    await page.getByRole('button', { name: 'Contact your GP surgery online' }).click();
    const form = page.frameLocator('iframe[title="Contact your GP surgery online"]');
    await form.getByRole('heading', { name: 'What do you need help with?' }).waitFor();
    // the widget said hello from a listed origin: the form answered and offers to close
    await form.getByRole('button', { name: 'Close this form' }).waitFor();
    await page.screenshot({ path: `${shots}/widget-on-practice-site.png` });
    await form.getByRole('button', { name: 'Close this form' }).click();
    await page.getByRole('button', { name: 'Contact your GP surgery online' }).waitFor({ state: 'visible' });
    assert.equal(await page.getByRole('dialog').isVisible(), false, 'the panel closed');
    const frame = page.frames().find((one) => one.url().startsWith(`${service}/form.html`));
    assert.ok(frame, 'the form frame');
    assert.deepEqual(await policy.events(frame), []);
    assert.deepEqual(policy.console, []);
    await page.close();
  });

  it('refuses to show the form in a frame on a website not in the practice’s settings (frame-ancestors)', async () => {
    const page = await newLocalPage(browser);
    const refusals: string[] = [];
    page.on('console', (message) => {
      if (message.text().includes('frame-ancestors')) refusals.push(message.text());
    });
    const formLoaded = page.waitForRequest((request) => request.url().includes('/api/practices/A81001'), {
      timeout: 3000,
    });
    await page.goto(`${otherSite}/frame`);
    await waitFor('the browser to refuse the frame', () => refusals.length > 0, { timeoutMs: 10_000 });
    assert.match(refusals[0]!, new RegExp(`frame-ancestors 'self' ${practiceSite}`));
    await assert.rejects(formLoaded, 'the form’s script never ran, so never asked triage for the practice');
    const frame = page.frames().find((one) => one !== page.mainFrame());
    assert.ok(frame);
    assert.equal(await frame.locator('#step').count(), 0, 'nothing of the form shows');

    // the widget on that website opens a panel with nothing in it
    await page.goto(`${otherSite}/`);
    await page.getByRole('button', { name: 'Contact your GP surgery online' }).click();
    await waitFor('the browser to refuse the widget’s frame', () => refusals.length > 1, {
      timeoutMs: 10_000,
    });
    await page.screenshot({ path: `${shots}/widget-on-other-site.png` });
    await page.close();
  });

  it('ignores a message from a frame on another origin: the widget stays open and the form never answers it', async () => {
    const page = await newLocalPage(browser);
    await page.goto(`${practiceSite}/with-ad`);
    await page.getByRole('button', { name: 'Contact your GP surgery online' }).click();
    const form = page.frameLocator('iframe[title="Contact your GP surgery online"]');
    await form.getByRole('button', { name: 'Close this form' }).waitFor();
    const advert = page.frames().find((frame) => frame.url().startsWith(`${otherSite}/advert`));
    assert.ok(advert, 'the advert’s frame');

    // the advert, on an origin the practice never listed, tells the widget to close...
    await advert.evaluate(() => window.top!.postMessage({ gpc: 'form', type: 'close' }, '*'));
    // ...and a message posted after it is heard first: the advert's was ignored, not late
    await page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          addEventListener('message', (event) => event.data === 'after' && resolve());
          postMessage('after', '*');
        }),
    );
    assert.equal(await page.getByRole('dialog').isVisible(), true, 'the panel is still open');
    await page.close();
  });

  it('answers a hello only from the practice’s websites, even while the web server still lets a removed one frame it', async () => {
    // the other practice, whose form the web server has not looked up yet (nor cached)
    await setWebsites([otherSite], practiceB);
    const page = await newLocalPage(browser);
    const helloFromParent = () =>
      page.evaluate(
        () =>
          new Promise<string>((resolve) => {
            addEventListener('message', (event) => resolve(JSON.stringify(event.data)));
            const frame = document.querySelector('iframe')!;
            frame.contentWindow!.postMessage({ gpc: 'widget', type: 'hello' }, '*');
            setTimeout(() => resolve('no answer'), 2000);
          }),
      );
    await page.goto(`${otherSite}/frame?practice=B82002`);
    const form = page.frameLocator('iframe[title="The form"]');
    await form.getByRole('heading', { name: 'What do you need help with?' }).waitFor();
    assert.equal(await helloFromParent(), '{"gpc":"form","type":"ready"}', 'while listed, the form answers');

    // the practice takes the website off its list; the web server's cached frame-ancestors still allow it
    await setWebsites([], practiceB);
    await page.reload();
    await form.getByRole('heading', { name: 'What do you need help with?' }).waitFor();
    assert.equal(await helloFromParent(), 'no answer', 'the form reads the list fresh and ignores it');
    assert.equal(await form.getByRole('button', { name: 'Close this form' }).count(), 0);
    await page.close();
  });

  it('lets an admin add and remove the practice’s websites on the settings page', async () => {
    await setWebsites([]);
    const page = await newLocalPage(browser, { viewport: { width: 1000, height: 900 } });
    const policy = await watchPolicy(page);
    await signIn(page, 'settings.html#websites', 'admin');
    const section = page.locator('#websites');
    await section.getByText('No websites yet').waitFor();
    await section.getByLabel('Website address').fill('http://www.riverside-surgery.example');
    await section.getByRole('button', { name: 'Add website' }).click();
    await page.getByText('The website must use https://').first().waitFor();
    await section.screenshot({ path: `${shots}/settings-websites-refused.png` });
    await section.getByLabel('Website address').fill('www.riverside-surgery.example/contact-us');
    await section.getByRole('button', { name: 'Add website' }).click();
    await page.getByText('https://www.riverside-surgery.example has been added').waitFor();
    await section.getByLabel('Website address').fill(practiceSite);
    await section.getByRole('button', { name: 'Add website' }).click();
    await section.getByRole('cell', { name: practiceSite, exact: true }).waitFor();
    await section.screenshot({ path: `${shots}/settings-websites.png` });
    await expectNoAxeViolations(page, 'practice websites');
    const published = await fetch(`${web.url}api/practices/A81001/embedding`);
    assert.deepEqual(await published.json(), {
      websiteOrigins: ['https://www.riverside-surgery.example', practiceSite],
    });

    await section.getByRole('button', { name: 'Remove https://www.riverside-surgery.example' }).click();
    await page.getByText('https://www.riverside-surgery.example has been removed').waitFor();
    assert.equal(
      await section.getByRole('cell', { name: 'https://www.riverside-surgery.example', exact: true }).count(),
      0,
    );
    await section.screenshot({ path: `${shots}/settings-websites-removed.png` });
    const remaining = await fetch(`${web.url}api/practices/A81001/embedding`);
    assert.deepEqual(await remaining.json(), { websiteOrigins: [practiceSite] });
    assert.deepEqual(await policy.events(), []);
    await page.close();
  });
});
