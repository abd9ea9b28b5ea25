/**
 * `npm run chaos`: the faults production brings, one after another, against a running service of
 * the run's own (its own PostgreSQL and Redis, on loopback), under a steady load of patients and a
 * clinician. For each fault it prints what was done and for how long, what the users saw, how long
 * the service took to recover, and the invariants; it exits 1 if one failed. Like `npm run bench`
 * it measures and reports; it is not a timed test. `--quick` shortens every outage.
 */
import { ensureMediasoupWorker } from '../mediasoup-worker';
import { log } from '../settings';
import { faults, type Fault, type FaultContext } from './faults';
import { checkInvariants, openRequests, settle, type Invariant } from './invariants';
import { Load } from './load';
import { describeOutcomes, Tally } from './tally';
import { startWorld, sweepEnv, type World } from './world';

interface Options {
  quick: boolean;
  outageMs: number;
  restartDelayMs: number;
  settleMs: number;
  gapMs: number;
  only: string | undefined;
  /** With the call node, call load and call faults; `--no-calls` without (e.g. no mediasoup worker yet). */
  calls: boolean;
}

function options(args: string[]): Options {
  const quick = args.includes('--quick') || process.env.GPC_CHAOS_QUICK === '1';
  const only = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
  const outageMs = Number(process.env.GPC_CHAOS_OUTAGE_MS ?? (quick ? 8000 : 30_000));
  return {
    quick,
    outageMs,
    restartDelayMs: 2000,
    settleMs: quick ? 60_000 : 120_000,
    gapMs: quick ? 3000 : 10_000,
    only,
    calls: !args.includes('--no-calls'),
  };
}

const out = (line = '') => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When every service's /readyz answers 200 again (or undefined past the limit). */
async function allReady(world: World, limitMs: number): Promise<number | undefined> {
  const { triagePort, recordPort, signallingPort } = world.settings;
  const ports = [triagePort, recordPort, ...(world.processes.has('signalling') ? [signallingPort] : [])];
  const urls = ports.map((port) => `http://127.0.0.1:${port}/readyz`);
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const answers = await Promise.all(
      urls.map((url) =>
        fetch(url, { signal: AbortSignal.timeout(2000) }).then(
          async (response) => (await response.arrayBuffer(), response.ok),
          () => false,
        ),
      ),
    );
    if (answers.every(Boolean)) return Date.now();
    await sleep(200);
  }
  return undefined;
}

/** When owed work of a kind was first done after `from` (by the database's records), if it was. */
async function firstDoneAfter(world: World, sql: string, from: number): Promise<number | undefined> {
  const { rows } = await world.pool
    .query<{ at: Date | null }>(sql, [new Date(from)])
    .catch(() => ({ rows: [] as { at: Date | null }[] }));
  return rows[0]?.at?.getTime();
}

interface FaultResult {
  name: string;
  invariants: Invariant[];
}

async function runFault(
  fault: Fault,
  index: number,
  total: number,
  context: FaultContext,
  tally: Tally,
  settleMs: number,
): Promise<FaultResult> {
  const { world } = context;
  out();
  out(`── fault ${index}/${total}: ${fault.name}`);
  const began = Date.now();
  const done = await fault.inject(context);
  const broken = Date.now();
  out(`   done:       ${done}`);
  await sleep(fault.holdMs(context));
  const mended = await fault.restore(context);
  const back = Date.now();
  out(`   mended:     ${mended}, ${seconds(back - broken)} after it broke`);
  const ready = await allReady(world, 60_000);
  const submitted = await (async () => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const at = tally.firstOk('submissions', back);
      if (at) return at;
      await sleep(200);
    }
    return undefined;
  })();
  const recovered = Math.max(ready ?? Date.now(), submitted ?? Date.now());
  const extra = fault.observe ? await fault.observe(context) : [];
  const settled = await settle(world, settleMs);
  const filedAt = await firstDoneAfter(
    world,
    'SELECT min(filed_at) AS at FROM write_back WHERE filed_at > $1',
    back,
  );
  const sentAt = await firstDoneAfter(
    world,
    'SELECT min(sent_at) AS at FROM notification WHERE sent_at > $1',
    back,
  );

  out(`   users saw (from the fault until recovered, ${seconds(recovered - began)}):`);
  for (const [kind, outcomes] of [...tally.between(began, recovered + 1000).entries()].sort()) {
    out(`     ${kind.padEnd(22)} ${describeOutcomes(outcomes)}`);
  }
  const after = (at: number | undefined) =>
    at === undefined ? 'not within the limit' : `+${seconds(at - back)}`;
  out('   recovery (after it was mended):');
  out(`     every /readyz 200    ${after(ready)}`);
  out(`     first submission ok  ${after(submitted)}`);
  out(
    `     first write-back     ${filedAt === undefined ? 'none filed yet' : `+${seconds(filedAt - back)}`}`,
  );
  out(`     first email sent     ${sentAt === undefined ? 'none sent yet' : `+${seconds(sentAt - back)}`}`);
  for (const line of extra) out(`   ${line}`);
  out(`   settling:   ${settled.said}`);
  out(`   requests:   ${await openRequests(world)}`);
  const invariants = await checkInvariants(world, context.load.state, began, settled.cutoff);
  out('   invariants:');
  for (const invariant of invariants)
    out(`     ${invariant.held ? 'held  ' : 'BROKEN'} ${invariant.name}: ${invariant.detail}`);
  // as a supervisor would: a process that died on its own is started again for the next fault
  for (const service of world.processes.values()) {
    if (service.running) continue;
    await service.start().then(
      () => out(`   restarted ${service.name} after its unexpected exit`),
      (error: unknown) => out(`   could not restart ${service.name}: ${String(error)}`),
    );
  }
  return { name: fault.name, invariants };
}

export async function chaos(args: string[]): Promise<number> {
  const opts = options(args);
  const chosen = faults.filter(
    (fault) =>
      (!opts.only || fault.name.toLowerCase().includes(opts.only.toLowerCase())) &&
      (opts.calls || !fault.calls),
  );
  const workerBin = opts.calls ? await ensureMediasoupWorker({ log }) : undefined;
  const started = Date.now();
  out(
    `chaos: ${chosen.length} faults, outages of ${seconds(opts.outageMs)}${opts.quick ? ' (--quick)' : ''}, all on loopback`,
  );
  const world = await startWorld(workerBin, (line) => out(`chaos: ${line}`));
  let interrupted = false;
  const tally = new Tally();
  const load = new Load(world, tally, { submissionGapMs: 400, meshSubmissionGapMs: 1500 });
  const stopAll = async () => {
    await load.stop().catch(() => undefined);
    await world.close();
  };
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    out('\nchaos: interrupted; stopping everything it started...');
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    out(`chaos: services up in ${seconds(Date.now() - started)}: ${[...world.processes.keys()].join(', ')}`);
    out(
      `chaos: sweeps for lost jobs every ${Number(sweepEnv.RECORD_SWEEP_INTERVAL_MS) / 1000} s, for work untouched ${Number(sweepEnv.RECORD_SWEEP_AFTER_MS) / 1000} s (production: 30 s and 2 min)`,
    );
    out(
      `chaos: load: at ${world.staff.odsCode} (files by FHIR R4) 2 patients sending requests (one each 0.4 s), at ${world.meshStaff.odsCode} (files by GP Connect Send Document over MESH) 1 (one each 1.5 s); a clinician at each confirming, messaging and closing${opts.calls ? ', an admin starting and joining a video call every 2 s' : ' (no call node: --no-calls)'}; every /readyz asked each second`,
    );
    load.start();
    await sleep(opts.gapMs * 2);
    const context: FaultContext = {
      world,
      load,
      outageMs: opts.outageMs,
      restartDelayMs: opts.restartDelayMs,
    };
    const results: FaultResult[] = [];
    for (const [i, fault] of chosen.entries()) {
      if (interrupted) break;
      results.push(await runFault(fault, i + 1, chosen.length, context, tally, opts.settleMs));
      await sleep(opts.gapMs);
    }
    await load.stop();
    out();
    out(`chaos: summary after ${seconds(Date.now() - started)}`);
    for (const result of results) {
      const broken = result.invariants.filter((invariant) => !invariant.held);
      out(
        `  ${broken.length === 0 ? 'held  ' : 'BROKEN'} ${result.name}${broken.length ? `: ${broken.map((b) => b.name).join('; ')}` : ''}`,
      );
    }
    const failed = results.some((result) => result.invariants.some((invariant) => !invariant.held));
    if (failed) {
      // what the processes logged and the stand-ins kept, for whoever looks into it
      world.keepFiles();
      out(`chaos: an invariant failed: the run's logs and stand-in state are kept in ${world.dir}`);
    }
    return failed ? 1 : 0;
  } finally {
    if (!interrupted) await stopAll();
  }
}
