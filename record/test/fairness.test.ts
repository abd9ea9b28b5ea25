import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import {
  cleanupStack,
  closeWithPendingWriteBack,
  localOutbound,
  type ProxiedRequest,
  seedConsultation,
  type SeededPractice,
  seedPractice,
  startFaultProxy,
  startLocalFhir,
  startTestDatabase,
  testRedisUrl as redisUrl,
  waitFor,
} from '@gpc/test-support';
import { FhirClient } from '../src/fhir/client';
import { createWriteBackQueue, enqueueWriteBack } from '../src/queue';
import { startWriteBackWorker } from '../src/worker';

const slowAnswerMs = 1000;
const concurrency = 4;
const slowBacklog = 8;
const fastBacklog = 6;

/** The most requests that were in flight at the same moment. */
function mostAtOnce(requests: ProxiedRequest[]): number {
  const edges = requests.flatMap((r) => [
    { at: r.at, step: 1 },
    { at: r.doneAt ?? Number.POSITIVE_INFINITY, step: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let now = 0;
  let most = 0;
  for (const edge of edges) most = Math.max(most, (now += edge.step));
  return most;
}

describe('one slow GP system does not hold up the other practices (real PostgreSQL, Redis, FHIR server)', async () => {
  const cleanup = cleanupStack({ after });
  const db = await startTestDatabase(cleanup);
  const fhir = await startLocalFhir();
  cleanup.after(() => fhir.server.close());
  const proxy = await startFaultProxy(fhir.base);
  cleanup.after(() => proxy.close());
  let odsSequence = 0;

  async function closedConsultations(practice: SeededPractice, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = await seedConsultation(db.pool, practice.id);
      await closeWithPendingWriteBack(db.pool, id, practice);
      ids.push(id);
    }
    return ids;
  }

  const countFiled = async (practice: SeededPractice) =>
    (
      await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM write_back WHERE practice_id = $1 AND status = 'filed'`,
        [practice.id],
      )
    ).rows[0]!.n;

  /**
   * The slow practice's backlog is queued first, then the fast one's; returns how many of the slow
   * practice's write-backs were filed by the time all of the fast one's were, and the most of the
   * slow practice's requests that were in flight at once.
   */
  async function race(practiceConcurrency: number) {
    const slow = await seedPractice(db.pool, `S${String(++odsSequence).padStart(5, '0')}`);
    const fast = await seedPractice(db.pool, `F${String(odsSequence).padStart(5, '0')}`);
    await db.pool.query('UPDATE practice SET fhir_base_url = $1 WHERE id = ANY($2)', [
      proxy.url,
      [slow.id, fast.id],
    ]);
    proxy.setRule((body) =>
      body.includes(slow.odsCode) ? { kind: 'delay', ms: slowAnswerMs } : { kind: 'pass' },
    );
    const firstRequest = proxy.requests.length;

    const prefix = `gpc-test-${randomUUID()}`;
    const queue = createWriteBackQueue(redisUrl, {
      prefix,
      retry: { baseDelayMs: 100, maxDelayMs: 1000 },
      perPracticeLimit: { max: 1000, durationMs: 1000 },
    });
    for (const id of await closedConsultations(slow, slowBacklog)) {
      await enqueueWriteBack(queue, { consultationId: id, practiceId: slow.id });
    }
    for (const id of await closedConsultations(fast, fastBacklog)) {
      await enqueueWriteBack(queue, { consultationId: id, practiceId: fast.id });
    }
    const worker = startWriteBackWorker({
      queue,
      pool: db.pool,
      fhir: new FhirClient({ timeoutMs: 10_000, outbound: localOutbound }),
      readDocument: () => Promise.reject(new Error('no attachments here')),
      logger: pino({ level: 'silent' }),
      concurrency,
      practiceConcurrency,
      maxAttempts: 5,
      sweepIntervalMs: 0,
      sweepAfterMs: 60_000,
    });
    try {
      const slowFiledWhenFastDone = await waitFor('the fast practice filed', async () =>
        (await countFiled(fast)) === fastBacklog ? countFiled(slow) : undefined,
      );
      await waitFor('the slow practice filed', async () =>
        (await countFiled(slow)) === slowBacklog ? true : undefined,
      );
      const slowRequests = proxy.requests.slice(firstRequest).filter((r) => r.body.includes(slow.odsCode));
      const attempts = await db.pool.query<{ attempts: number }>(
        'SELECT DISTINCT attempts FROM write_back WHERE practice_id = ANY($1)',
        [[slow.id, fast.id]],
      );
      return { slowFiledWhenFastDone, slowAtOnce: mostAtOnce(slowRequests), attempts: attempts.rows };
    } finally {
      await worker.close();
      const cleanup = createWriteBackQueue(redisUrl, { prefix });
      await cleanup.obliterate({ force: true });
      await cleanup.close();
    }
  }

  it('files a fast practice’s backlog while a slow GP system works through its own, which holds only its share', async () => {
    const capped = await race(2);
    assert.equal(capped.slowAtOnce, 2, 'the slow GP system holds two of the four slots');
    assert.ok(
      capped.slowFiledWhenFastDone <= slowBacklog / 2,
      `the fast practice did not wait for the slow one (${capped.slowFiledWhenFastDone} of ${slowBacklog} slow ones filed first)`,
    );
    assert.deepEqual(capped.attempts, [{ attempts: 1 }], 'a hand-back is not counted as an attempt');

    // the same backlog without the cap: the slow GP system takes every slot and the fast practice waits
    const uncapped = await race(concurrency);
    assert.equal(uncapped.slowAtOnce, concurrency);
    assert.ok(uncapped.slowFiledWhenFastDone > slowBacklog / 2, 'without the cap the fast practice waits');
  });
});
