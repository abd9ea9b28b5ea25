/**
 * The faults of the GP Connect Send Document route (issue 14), against the practice that files by
 * MESH: the MESH stand-in down and back (its messages file kept, as MESH keeps its mailboxes), the
 * GP system silent for a while (its poller down: messages wait in its mailbox, acknowledgements come
 * late but well within the record worker's acknowledgement timeouts, an hour and two days), and the
 * record worker killed between sending messages and their acknowledgements.
 */
import type { Fault, FaultContext } from './faults';
import type { World } from './world';

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The MESH practice's write-backs by status, and how many the simulated GP system holds. */
async function meshState(world: World): Promise<Map<string, number>> {
  const { rows } = await world.pool
    .query<{ status: string; n: number }>(
      `SELECT w.status, count(*)::int AS n FROM write_back w
         JOIN consultation c ON c.id = w.consultation_id JOIN practice p ON p.id = c.practice_id
        WHERE p.ods_code = $1 GROUP BY w.status ORDER BY w.status`,
      [world.meshStaff.odsCode],
    )
    .catch(() => ({ rows: [] as { status: string; n: number }[] }));
  return new Map(rows.map((row) => [row.status, row.n]));
}

const describe = (state: Map<string, number>) =>
  [...state.entries()].map(([status, n]) => `${status} ${n}`).join(', ') || 'none';

async function gpInboxHolds(world: World): Promise<string> {
  const received = await fetch(`${world.gpInboxUrl}/admin/received`, { signal: AbortSignal.timeout(5000) })
    .then((response) => response.json() as Promise<{ state: string }[]>)
    .catch(() => undefined);
  if (!received) return 'the simulated GP system did not answer';
  const states = new Map<string, number>();
  for (const document of received) states.set(document.state, (states.get(document.state) ?? 0) + 1);
  return `${received.length} documents (${describe(states)})`;
}

/** The simulated GP system's fault switches (PUT /admin/faults); `{}` clears them. */
async function gpInboxFaults(world: World, faults: { delayMs?: number }): Promise<void> {
  const response = await fetch(`${world.gpInboxUrl}/admin/faults`, {
    method: 'PUT',
    body: JSON.stringify(faults),
    signal: AbortSignal.timeout(5000),
  });
  await response.arrayBuffer();
  if (!response.ok)
    throw new Error(`the simulated GP system refused its fault switches (${response.status})`);
}

let before = new Map<string, number>();

async function observe({ world }: FaultContext): Promise<string[]> {
  return [
    `MESH practice ${world.meshStaff.odsCode} write-backs before the fault: ${describe(before)}`,
    `MESH practice ${world.meshStaff.odsCode} write-backs now:              ${describe(await meshState(world))}`,
    `simulated GP system holds: ${await gpInboxHolds(world)}`,
  ];
}

/** A stand-in process killed for the outage and started again on the same port and files. */
function standInDown(name: string, title: string, said: string, back: string): Fault {
  return {
    name: title,
    async inject({ world }) {
      before = await meshState(world);
      const service = world.process(name);
      const pid = service.pid;
      await service.kill9();
      return `SIGKILL to ${name} (pid ${pid}): ${said}`;
    },
    holdMs: (context) => context.outageMs,
    async restore({ world }) {
      const started = Date.now();
      await world.process(name).start();
      return `${name} started again, ready in ${seconds(Date.now() - started)}: ${back}`;
    },
    observe,
  };
}

export const meshFaults: Fault[] = [
  standInDown(
    'mesh',
    'MESH down (the MESH stand-in killed), back with its mailboxes',
    'every MESH request refused: sends, inbox polls and the GP system’s polls',
    'its mailboxes as they were (its messages file)',
  ),
  standInDown(
    'gp-inbox',
    'the GP system silent (not reading its MESH mailbox), back',
    'messages wait in its mailbox and no acknowledgement comes (the worker waits up to an hour for one)',
    'it reads its mailbox and acknowledges what waited',
  ),
  {
    name: 'kill -9 of the record worker with MESH messages awaiting acknowledgement',
    async inject({ world }) {
      // kill it while MESH has several messages of ours the GP system has not acknowledged yet: the
      // GP system slowed (2 s a message) until a few are waiting, then answering at full speed while
      // the worker is dead, so acknowledgements pile up in its inbox for the next worker to apply
      await gpInboxFaults(world, { delayMs: 2000 });
      const deadline = Date.now() + 20_000;
      before = await meshState(world);
      while (Date.now() < deadline && (before.get('sent') ?? 0) < 3) {
        await sleep(100);
        before = await meshState(world);
      }
      const service = world.process('record');
      const pid = service.pid;
      await service.kill9();
      await gpInboxFaults(world, {});
      return `SIGKILL to record (pid ${pid}) with ${before.get('sent') ?? 0} MESH write-backs sent and awaiting acknowledgement, ${before.get('pending') ?? 0} pending`;
    },
    holdMs: (context) => context.restartDelayMs,
    async restore({ world }) {
      const started = Date.now();
      await world.process('record').start();
      return `record started again, ready in ${seconds(Date.now() - started)}`;
    },
    observe,
  },
];
