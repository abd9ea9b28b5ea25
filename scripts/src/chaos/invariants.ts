/**
 * What must hold after every fault, checked against the system of record and the far sides
 * themselves: the database (acknowledged requests), the GP record (the local FHIR server, asked
 * directly, not through the failing proxy), the mail catcher's inbox, and the processes.
 */
import { allCompositions } from '@gpc/test-support';
import { CONSULTATION_SYSTEM } from '@gpc/record';
import type { LoadState } from './load';
import type { World } from './world';

export interface Invariant {
  name: string;
  held: boolean;
  detail: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Work owed since before `cutoff` still on its way: write-backs not yet filed (pending, or sent over
 * MESH and awaiting the GP system's acknowledgements), notifications not yet sent.
 */
async function owed(
  world: World,
  cutoff: Date,
): Promise<{ writeBacks: number; notifications: number } | undefined> {
  try {
    const { rows } = await world.pool.query<{ write_backs: number; notifications: number }>(
      `SELECT (SELECT count(*)::int FROM write_back WHERE status IN ('pending', 'sent') AND created_at < $1) AS write_backs,
              (SELECT count(*)::int FROM notification WHERE status = 'queued' AND created_at < $1) AS notifications`,
      [cutoff],
    );
    return { writeBacks: rows[0]!.write_backs, notifications: rows[0]!.notifications };
  } catch {
    return undefined;
  }
}

/**
 * Waits until the work owed when it was called is done (the load goes on meanwhile, so newer work
 * is always on its way and is left out), or the limit; says how long it took, or what was left.
 * The invariants then judge what was owed before `cutoff`.
 */
export async function settle(world: World, limitMs: number): Promise<{ cutoff: Date; said: string }> {
  const started = Date.now();
  const cutoff = new Date(started);
  let last: Awaited<ReturnType<typeof owed>>;
  while (Date.now() - started < limitMs) {
    last = await owed(world, cutoff);
    if (last && last.writeBacks === 0 && last.notifications === 0)
      return { cutoff, said: `owed work drained in ${((Date.now() - started) / 1000).toFixed(1)} s` };
    await sleep(1000);
  }
  return {
    cutoff,
    said: `still owed after ${limitMs / 1000} s: ${last?.writeBacks ?? '?'} write-backs not yet filed (pending, or sent and awaiting acknowledgement), ${last?.notifications ?? '?'} notifications queued`,
  };
}

/** The practice's open requests by where their patient's identity stands: traces owed show here. */
export async function openRequests(world: World): Promise<string> {
  const { rows } = await world.pool
    .query<{ identity_status: string; n: number }>(
      `SELECT identity_status, count(*)::int AS n FROM consultation WHERE status <> 'closed'
        GROUP BY identity_status ORDER BY n DESC`,
    )
    .catch(() => ({ rows: [] as { identity_status: string; n: number }[] }));
  const total = rows.reduce((sum, row) => sum + row.n, 0);
  return `${total} open, by identity: ${rows.map((row) => `${row.identity_status} ${row.n}`).join(', ') || 'none'}`;
}

async function submissionsKept(world: World, load: LoadState): Promise<Invariant> {
  const references = [...load.acknowledged];
  const { rows } = await world.pool.query<{ reference: string }>(
    'SELECT reference FROM consultation WHERE reference = ANY($1)',
    [references],
  );
  const missing = references.length - rows.length;
  return {
    name: 'no acknowledged submission missing',
    held: missing === 0,
    detail: `${references.length} acknowledged, ${rows.length} in the database, ${missing} missing`,
  };
}

/** Every closed request's summary in the GP record exactly once, against its own patient; nothing else there. */
async function summariesFiledOnce(world: World, load: LoadState, cutoff: Date): Promise<Invariant> {
  // the closes acknowledged so far, taken before the database is read: the load goes on meanwhile,
  // and a close acknowledged after that read is not missing from it
  const acknowledgedCloses = [...load.closed];
  const { rows: all } = await world.pool.query<{
    id: string;
    nhs: string | null;
    status: string | null;
    owed: boolean;
  }>(
    `SELECT c.id, c.identity_confirmed_nhs_number AS nhs, w.status, c.closed_at < $1 AS owed
       FROM consultation c LEFT JOIN write_back w ON w.consultation_id = c.id
       JOIN practice p ON p.id = c.practice_id
      WHERE c.status = 'closed' AND p.ods_code <> $2`,
    [cutoff, world.meshStaff.odsCode],
  );
  // closed since the cutoff: on its way, judged after the next fault
  const rows = all.filter((row) => row.owed);
  const compositions = await allCompositions(world.fhirBase);
  const filed = new Map<string, string[]>();
  for (const composition of compositions) {
    const ids = [composition.identifier]
      .flat()
      .filter((identifier) => identifier?.system === CONSULTATION_SYSTEM);
    for (const identifier of ids) {
      const patients = filed.get(identifier!.value!) ?? [];
      patients.push(composition.subject?.identifier?.value ?? '?');
      filed.set(identifier!.value!, patients);
    }
  }
  const problems: string[] = [];
  const closedIds = new Set(all.map((row) => row.id));
  const notFiled = rows.filter((row) => (filed.get(row.id)?.length ?? 0) === 0);
  const twice = rows.filter((row) => (filed.get(row.id)?.length ?? 0) > 1);
  const wrongPatient = rows.filter((row) => filed.get(row.id)?.some((nhs) => nhs !== row.nhs));
  const strangers = [...filed.keys()].filter((id) => !closedIds.has(id));
  const meshClosed = await closedAt(world, world.meshStaff.odsCode);
  const unacknowledged = acknowledgedCloses.filter((id) => !closedIds.has(id) && !meshClosed.has(id));
  if (notFiled.length > 0)
    problems.push(
      `${notFiled.length} not filed (write-back ${[...new Set(notFiled.map((row) => row.status))].join('/')})`,
    );
  if (twice.length > 0) problems.push(`${twice.length} filed more than once`);
  if (wrongPatient.length > 0) problems.push(`${wrongPatient.length} filed against another patient`);
  if (strangers.length > 0) problems.push(`${strangers.length} filed for a request not closed`);
  if (unacknowledged.length > 0) problems.push(`${unacknowledged.length} acknowledged closes not closed`);
  return {
    name: 'every closed request filed exactly once, against its own patient',
    held: problems.length === 0,
    detail: `${world.staff.odsCode} (FHIR R4): ${rows.length} closed before settling (${acknowledgedCloses.length} closes acknowledged at both practices), ${compositions.length} Compositions in the GP record${problems.length ? `: ${problems.join('; ')}` : ''}`,
  };
}

/** The ids of a practice's closed requests. */
async function closedAt(world: World, odsCode: string): Promise<Set<string>> {
  const { rows } = await world.pool.query<{ id: string }>(
    `SELECT c.id FROM consultation c JOIN practice p ON p.id = c.practice_id
      WHERE c.status = 'closed' AND p.ods_code = $1`,
    [odsCode],
  );
  return new Set(rows.map((row) => row.id));
}

/** What the simulated GP system says it received (GET /admin/received). */
interface GpInboxDocument {
  meshMessageId: string;
  itkMessageId: string | null;
  state: 'accepted' | 'refused' | 'replaced';
  nhsNumber: string | null;
  documentId: string | null;
  replaces: string | null;
  infrastructureCode: string | null;
  businessCode: string | null;
}

/**
 * Every request closed at the practice filing by MESH is filed in its GP system exactly once: the
 * write-back `filed` (20013 then 30001), exactly one document in the GP system's workflow for it
 * (an earlier one only if replaced through `relatesTo`), about its own patient, and no document the
 * service did not send. The same ITK3 message delivered twice (a re-send after a restart, which a
 * GP system recognises by its MessageHeader id) is told apart from a second document.
 */
async function meshFiledOnce(world: World, load: LoadState, cutoff: Date): Promise<Invariant> {
  const { rows: all } = await world.pool.query<{
    id: string;
    nhs: string | null;
    status: string | null;
    owed: boolean;
    document_ids: string[] | null;
    acks: string | null;
  }>(
    `SELECT c.id, c.identity_confirmed_nhs_number AS nhs, w.status, c.closed_at < $1 AS owed,
            (SELECT array_agg(m.document_id::text) FROM send_document_message m
              WHERE m.consultation_id = c.id) AS document_ids,
            (SELECT concat_ws(' ', coalesce(m.infrastructure_code, 'no infrastructure ack'),
                              coalesce(m.business_code, 'no business ack'), m.report_code)
               FROM send_document_message m WHERE m.itk_message_id = w.itk_message_id) AS acks
       FROM consultation c LEFT JOIN write_back w ON w.consultation_id = c.id
       JOIN practice p ON p.id = c.practice_id
      WHERE c.status = 'closed' AND p.ods_code = $2`,
    [cutoff, world.meshStaff.odsCode],
  );
  const rows = all.filter((row) => row.owed);
  const received = (await (
    await fetch(`${world.gpInboxUrl}/admin/received`, { signal: AbortSignal.timeout(10_000) })
  ).json()) as GpInboxDocument[];
  const byDocument = new Map<string, GpInboxDocument[]>();
  for (const document of received) {
    const key = document.documentId ?? `(no document id: MESH ${document.meshMessageId})`;
    byDocument.set(key, [...(byDocument.get(key) ?? []), document]);
  }
  const ours = new Set(all.flatMap((row) => row.document_ids ?? []));
  const notFiled = rows.filter((row) => row.status !== 'filed');
  const twice: string[] = [];
  const wrongPatient: string[] = [];
  let redelivered = 0;
  for (const row of rows) {
    const documents = (row.document_ids ?? []).flatMap((id) => byDocument.get(id) ?? []);
    // the same ITK3 message more than once is one document, recognised by its MessageHeader id
    const messages = new Map(documents.map((d) => [d.itkMessageId ?? d.meshMessageId, d]));
    redelivered += documents.length - messages.size;
    const accepted = [...messages.values()].filter((d) => d.state === 'accepted');
    const replaced = [...messages.values()].filter((d) => d.state === 'replaced');
    const replacedProperly = replaced.every((old) => accepted.some((d) => d.replaces === old.documentId));
    if (row.status === 'filed' && (accepted.length !== 1 || !replacedProperly)) twice.push(row.id);
    if (documents.some((d) => d.nhsNumber !== row.nhs)) wrongPatient.push(row.id);
  }
  const strangers = [...byDocument.keys()].filter((id) => !ours.has(id));
  const problems: string[] = [];
  if (notFiled.length > 0) {
    // what our database holds of their acknowledgements, and what the GP system says it answered
    const seen = new Map<string, number>();
    for (const row of notFiled) {
      const documents = (row.document_ids ?? []).flatMap((id) => byDocument.get(id) ?? []);
      const there = documents.length
        ? `GP system: ${documents.map((d) => `${d.state} ${d.infrastructureCode ?? '-'}/${d.businessCode ?? '-'}`).join(', ')}`
        : 'not in the GP system';
      const key = `${row.status ?? 'no write-back'}, ours: ${row.acks ?? 'no message'}, ${there}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    problems.push(
      `${notFiled.length} not filed (${[...seen.entries()].map(([key, n]) => `${n} × ${key}`).join('; ')})`,
    );
  }
  if (twice.length > 0) problems.push(`${twice.length} filed but not exactly one document in the GP system`);
  if (wrongPatient.length > 0) problems.push(`${wrongPatient.length} with a document about another patient`);
  if (strangers.length > 0)
    problems.push(`${strangers.length} documents in the GP system the service never sent`);
  const acknowledgedHere = [...load.closed].filter((id) => all.some((row) => row.id === id)).length;
  return {
    name: 'every close at the MESH practice filed exactly once (acknowledged 30001), against its own patient',
    held: problems.length === 0,
    detail: `${world.meshStaff.odsCode} (GP Connect Send Document): ${rows.length} closed before settling (${acknowledgedHere} closes acknowledged there in all), ${received.length} MESH messages in the GP system for ${byDocument.size} documents${redelivered ? ` (${redelivered} a re-delivery of the same ITK3 message)` : ''}${problems.length ? `: ${problems.join('; ')}` : ''}`,
  };
}

/** Every email the service owes a patient is in the mail catcher's inbox. */
async function notificationsDelivered(world: World, load: LoadState, cutoff: Date): Promise<Invariant> {
  // taken before the database is read, as the closes are: a message sent after that read is not unrecorded
  const messaged = [...load.messaged];
  const { rows: all } = await world.pool.query<{
    consultation_id: string;
    destination: string;
    status: string;
    owed: boolean;
  }>(
    `SELECT consultation_id, destination, status, created_at < $1 AS owed FROM notification WHERE channel = 'email'`,
    [cutoff],
  );
  const rows = all.filter((row) => row.owed);
  const inbox = (await (await fetch(`${world.mailApi}/api/email`)).json()) as {
    to?: { address: string }[];
  }[];
  const received = new Map<string, number>();
  for (const mail of inbox)
    for (const to of mail.to ?? []) received.set(to.address, (received.get(to.address) ?? 0) + 1);
  const lost = rows.filter((row) => (received.get(row.destination) ?? 0) === 0);
  const owedIds = new Set(all.map((row) => row.consultation_id));
  const unrecorded = messaged.filter((id) => !owedIds.has(id));
  const duplicates = rows.filter((row) => (received.get(row.destination) ?? 0) > 1).length;
  const problems = [
    ...(lost.length
      ? [`${lost.length} never arrived (${[...new Set(lost.map((row) => row.status))].join('/')})`]
      : []),
    ...(unrecorded.length ? [`${unrecorded.length} acknowledged messages with no notification`] : []),
  ];
  return {
    name: 'no notification lost',
    held: problems.length === 0,
    detail: `${rows.length} owed before settling, ${inbox.length} emails in the inbox${duplicates ? ` (${duplicates} patients emailed more than once)` : ''}${problems.length ? `: ${problems.join('; ')}` : ''}`,
  };
}

function processesAlive(world: World, since: number): Invariant {
  const exits = world.unexpectedExits.filter((exit) => exit.at >= since);
  const down = [...world.processes.values()]
    .filter((service) => !service.running)
    .map((service) => service.name);
  return {
    name: 'no process exited unexpectedly',
    held: exits.length === 0 && down.length === 0,
    detail:
      exits.length === 0 && down.length === 0
        ? `${world.processes.size} processes running`
        : [
            ...exits.map((exit) => `${exit.name} exited (code ${exit.code}, signal ${exit.signal})`),
            ...(down.length ? [`not running: ${down.join(', ')}`] : []),
          ].join('; '),
  };
}

/** Every invariant; a check that cannot be made (its source unreachable) fails, saying why. */
export async function checkInvariants(
  world: World,
  load: LoadState,
  since: number,
  cutoff: Date,
): Promise<Invariant[]> {
  const checks: [string, () => Promise<Invariant>][] = [
    ['no acknowledged submission missing', () => submissionsKept(world, load)],
    [
      'every closed request filed exactly once, against its own patient',
      () => summariesFiledOnce(world, load, cutoff),
    ],
    [
      'every close at the MESH practice filed exactly once (acknowledged 30001), against its own patient',
      () => meshFiledOnce(world, load, cutoff),
    ],
    ['no notification lost', () => notificationsDelivered(world, load, cutoff)],
  ];
  const results: Invariant[] = [];
  for (const [name, check] of checks) {
    results.push(
      await check().catch((error: unknown) => ({
        name,
        held: false,
        detail: `could not check: ${error instanceof Error ? error.message : String(error)}`,
      })),
    );
  }
  results.push(processesAlive(world, since));
  return results;
}
