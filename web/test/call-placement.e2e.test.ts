import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import {
  freePort,
  seedConsultation,
  spawnServiceProcess,
  startRedis,
  startTriage,
  waitFor,
  type ChildService,
} from '@gpc/test-support';
import { liveCallNodes } from '@gpc/triage';
import { ensureMediasoupWorker } from '../../scripts/src/mediasoup-worker';
import { redisCallNodes } from '../src/call-nodes';
import { launchBrowser, newLocalPage } from './support/browser';
import { joinAsPatient, mediaFlows, startCallAsClinician } from './support/call';
import {
  backWithoutNewAdmission,
  mediaBackOnNewTransport,
  reception,
  watchStates,
} from './support/call-recovery';
import { startStaticServer } from './support/static';

describe('calls placed across three call-node processes, in Chromium: the pages follow the placement, and a call whose node is killed comes back on another by itself', async () => {
  // Redis of the test's own: the nodes announce themselves under the real keys
  const redis = await startRedis();
  const placement = new Redis(redis.url);
  // the web server's address first: each node's public URL is a path on it, and triage places
  // calls only on nodes reached through its own site
  const webPort = await freePort();
  const webUrl = `http://127.0.0.1:${webPort}/`;
  const triage = await startTriage(
    { after },
    { listen: true, callPlacement: placement, publicWebUrl: webUrl.slice(0, -1) },
  );
  // torn down last-in first-out: Redis goes after everything that uses it
  triage.after(() => redis.remove());
  triage.after(() => placement.disconnect());
  const workerBin =
    process.env.MEDIASOUP_WORKER_BIN ?? (await ensureMediasoupWorker({ log: () => undefined }));

  /** A call node as production runs it (`signalling/src/server.ts`), announcing `/call-node/<id>` on the site. */
  async function startNode(id: string): Promise<ChildService> {
    return spawnServiceProcess('signalling/src/server.ts', {
      MEDIASOUP_WORKER_BIN: workerBin,
      SIGNALLING_PORT: String(await freePort()),
      SIGNALLING_RTC_PORT: String(await freePort()),
      SIGNALLING_JWKS_URL: `${triage.url}/.well-known/jwks.json`,
      SIGNALLING_REDIS_URL: redis.url,
      SIGNALLING_NODE_ID: id,
      SIGNALLING_PUBLIC_URL: `${webUrl}call-node/${id}`,
      SIGNALLING_LOG_LEVEL: 'warn',
    });
  }
  const ids = ['node-a', 'node-b', 'node-c'];
  const nodes = new Map<string, ChildService>();
  for (const id of ids) nodes.set(id, await startNode(id));
  triage.after(async () => {
    for (const node of nodes.values()) await node.kill();
  });
  // they compile their TypeScript first (tsx): long on a loaded machine
  await waitFor(
    () => `three call nodes to announce themselves: ${[...nodes.values()].map((n) => n.output()).join('\n')}`,
    async () => {
      for (const node of nodes.values())
        if (node.child.exitCode !== null) throw new Error(`a call node exited: ${node.output()}`);
      return (await liveCallNodes(placement)).length === 3;
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );

  const callNodes = redisCallNodes(redis.url);
  triage.after(() => callNodes.close());
  const web = await startStaticServer({ triageUrl: triage.url, port: webPort, callNodes });
  triage.after(() => web.close());
  const browser = await launchBrowser();
  triage.after(() => browser.close());

  const clinicianApi = triage.as(triage.practiceA, 'clinician');
  const nodeIdOf = (nodeUrl: string | undefined) => (nodeUrl ? path.posix.basename(nodeUrl) : undefined);
  /** Where the page's call connects now (its CallClient's node URL). */
  const pageNode = (page: Page) => page.evaluate(() => window.__call?.nodeUrl);
  const inCall = (page: Page) =>
    page.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, { timeout: 30_000 });

  it('places new calls on the least-loaded live node, so three calls land one on each', async () => {
    const placed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
      const created = await clinicianApi.inject({
        method: 'POST',
        url: '/calls',
        payload: { consultationId },
      });
      assert.equal(created.statusCode, 201, created.body);
      const { nodeUrl } = created.json<{ nodeUrl?: string }>();
      assert.ok(nodeUrl?.startsWith(`${webUrl}call-node/`), `a node on the site: ${nodeUrl}`);
      placed.push(nodeIdOf(nodeUrl)!);
    }
    assert.deepEqual(placed.sort(), ids, 'one call on each node');
  });

  it('brings the patient and the clinician back into the call on another node, by themselves, when the node their call is on is killed (SIGKILL): no new admission, media on both sides', async (t) => {
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const clinician = await newLocalPage(browser);
    const patientLink = await startCallAsClinician(clinician, web.url, clinicianApi.token, consultationId);
    const patient = await newLocalPage(browser);
    await joinAsPatient(patient, web.url, patientLink);
    await clinician.getByRole('button', { name: 'Admit Pat Example' }).click();
    await inCall(patient);
    await mediaFlows(patient, 'patient', 30_000);
    await mediaFlows(clinician, 'clinician', 30_000);

    // both pages connect where triage placed the call, through the site's /call-node/<id>
    const patientToken = new URL(patientLink).hash.slice('#t='.length);
    const where = async () => {
      const response = await triage.app.inject({
        method: 'GET',
        url: '/call-placement',
        headers: { authorization: `Bearer ${patientToken}` },
      });
      assert.equal(response.statusCode, 200, response.body);
      return response.json<{ nodeId: string; nodeUrl: string }>();
    };
    const first = await where();
    assert.equal(await pageNode(patient), first.nodeUrl, 'the patient’s page is on the call’s node');
    assert.equal(await pageNode(clinician), first.nodeUrl, 'the clinician’s page is on the call’s node');

    for (const page of [clinician, patient]) await watchStates(page);
    const [clinicianBefore, patientBefore] = await Promise.all([reception(clinician), reception(patient)]);
    const killedAt = Date.now();
    await nodes.get(first.nodeId)!.kill();
    nodes.delete(first.nodeId);

    const [clinicianBack, patientBack] = await Promise.all([
      mediaBackOnNewTransport(clinician, 'clinician on another node', clinicianBefore, 60_000),
      mediaBackOnNewTransport(patient, 'patient on another node', patientBefore, 60_000),
    ]);
    const report = `media back on another node after the kill: clinician ${clinicianBack - killedAt} ms, patient ${patientBack - killedAt} ms`;
    t.diagnostic(report);
    console.log(`call placement, node killed: ${report}`);

    const moved = await where();
    assert.notEqual(moved.nodeId, first.nodeId, 'the call is placed on another node');
    assert.ok(nodes.has(moved.nodeId), 'on a live one');
    assert.equal(await pageNode(patient), moved.nodeUrl, 'the patient’s page followed the call');
    assert.equal(await pageNode(clinician), moved.nodeUrl, 'the clinician’s page followed the call');
    await backWithoutNewAdmission(patient, clinician, 'on the new node');
  });
});
