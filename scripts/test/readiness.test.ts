import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { checkReadiness, describeReadiness, watchReadiness, type Readiness } from '../src/readiness';

/** A service's `/readyz` whose answer the test sets: 200, or 503 naming what is down, as the services answer. */
async function fakeService(): Promise<{
  url: string;
  down: (what: string[] | undefined) => void;
  server: Server;
}> {
  let down: string[] | undefined;
  const server = createServer((_request, response) => {
    if (!down) {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
      return;
    }
    response
      .writeHead(503, { 'content-type': 'application/json' })
      .end(JSON.stringify({ code: 'unavailable', message: 'not ready', down }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise((resolve) => server.close(resolve)));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`,
    down: (what) => (down = what),
    server,
  };
}

const until = async (what: string, predicate: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe("npm start's readiness lines", () => {
  it('says in words which dependency a service lacks, and that it keeps retrying', () => {
    const cases: [Readiness, string][] = [
      [{ state: 'ready' }, 'triage: ready'],
      [
        { state: 'not-ready', down: ['redis'] },
        'triage: not ready — Redis unreachable (it will keep retrying)',
      ],
      [
        { state: 'not-ready', down: ['database', 'redis'] },
        'triage: not ready — PostgreSQL unreachable, Redis unreachable (it will keep retrying)',
      ],
      [
        { state: 'not-ready', down: ['mediaWorkers'] },
        'triage: not ready — no live mediasoup worker (it will keep retrying)',
      ],
      [{ state: 'not-ready', down: ['s3'] }, 'triage: not ready — s3 down (it will keep retrying)'],
      [{ state: 'silent' }, 'triage: not answering its readiness check (it may be busy or have stopped)'],
    ];
    for (const [readiness, line] of cases) assert.equal(describeReadiness('triage', readiness), line);
  });

  it('reads a 503 naming what is down, a 200, and no answer at all', async () => {
    const service = await fakeService();
    assert.deepEqual(await checkReadiness(service.url), { state: 'ready' });
    service.down(['redis']);
    assert.deepEqual(await checkReadiness(service.url), { state: 'not-ready', down: ['redis'] });
    const closed = await fakeService();
    await new Promise((resolve) => closed.server.close(resolve));
    assert.deepEqual(await checkReadiness(closed.url), { state: 'silent' });
  });

  it('puts a service that is not ready in the banner, then prints a line when it goes down or comes back, once each', async () => {
    const triage = await fakeService();
    const record = await fakeService();
    triage.down(['redis']);
    const printed: string[] = [];
    const watch = await watchReadiness(
      [
        { name: 'triage', url: triage.url },
        { name: 'record', url: record.url },
      ],
      { print: (line) => printed.push(line), intervalMs: 50, graceMs: 200 },
    );
    after(() => watch.stop());
    assert.deepEqual(watch.bannerLines(), ['triage: not ready — Redis unreachable (it will keep retrying)']);

    triage.down(undefined);
    await until('triage reported ready', () => printed.includes('triage: ready'));
    record.down(['redis']);
    await until('record reported not ready', () => printed.length === 2);
    record.down(undefined);
    await until('record reported ready', () => printed.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(printed, [
      'triage: ready',
      'record: not ready — Redis unreachable (it will keep retrying)',
      'record: ready',
    ]);
    await watch.stop();
  });

  it('says every service is ready when they are, and waits out a service still connecting', async () => {
    const triage = await fakeService();
    triage.down(['redis']);
    setTimeout(() => triage.down(undefined), 300);
    const watch = await watchReadiness([{ name: 'triage', url: triage.url }], {
      print: () => assert.fail('nothing changed'),
      intervalMs: 50,
      graceMs: 3000,
    });
    assert.deepEqual(watch.bannerLines(), ['Every service is ready (triage).']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await watch.stop();
  });

  it('does not report a single blip of a check', async () => {
    const triage = await fakeService();
    const printed: string[] = [];
    let blips = 0;
    const watch = await watchReadiness([{ name: 'triage', url: triage.url }], {
      print: (line) => printed.push(line),
      intervalMs: 30,
      graceMs: 0,
      // every third look after the first fails once
      check: async (url): Promise<Readiness> =>
        blips++ % 3 === 2 ? { state: 'silent' } : await checkReadiness(url),
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await watch.stop();
    assert.ok(blips > 6, `looked ${blips} times`);
    assert.deepEqual(printed, []);
  });
});
