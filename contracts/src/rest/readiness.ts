import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * `GET /readyz`: whether triage can do all its work now. `/health` stays the liveness check (the
 * process answers and PostgreSQL with it); readiness also needs Redis (queues, live updates), and
 * names what is down while it is not ready. A load balancer or orchestrator reads this one, and
 * `npm start` prints it in words (scripts/src/readiness.ts).
 *
 * What each service counts as needed, and so names in `down` (503) while it does not answer:
 * - triage: `database` (PostgreSQL: every request) and `redis` (the publisher answers and every
 *   queue it hands jobs to is connected: write-backs, patient notifications, PDS traces);
 * - the record worker (record/src/app.ts): `database` and `redis` (its queue's connection);
 * - the call node (signalling/src/app.ts): `mediaWorkers` (no live mediasoup worker: between the
 *   death of the last and its replacement) and `redis` (cross-node events, call links' holders).
 * Not needed, so never named: the far sides reached per practice or per job (the GP system, PDS,
 * GOV.UK Notify, SMTP relays, NHS login, CIS2), whose failures are retried from the PostgreSQL
 * outbox and shown on the request, and S3, which only attachments use (an upload or a filing that
 * needs one fails or retries, saying so, while everything else goes on): taking a replica out of
 * rotation for them would stop all its work, and every replica shares them anyway.
 */
export const ReadinessDependency = Type.Union([Type.Literal('database'), Type.Literal('redis')]);
export type ReadinessDependency = Static<typeof ReadinessDependency>;

export const Ready = Type.Object({ status: Type.Literal('ready') });
export type Ready = Static<typeof Ready>;

/**
 * Every service's 503 from `/readyz`: a refusal like any other (`code`, `message` in words), with
 * `down` naming what it waits for, in the service's own dependency names.
 */
export const notReadyBody = <Dependency extends TSchema>(dependency: Dependency) =>
  Type.Object({
    code: Type.Literal('unavailable'),
    message: Type.String(),
    down: Type.Array(dependency, { minItems: 1 }),
  });

/** What a service's `/readyz` says is not answering, as a person reads it. */
export function notReadyMessage<Dependency extends string>(
  down: Dependency[],
  words: Record<Dependency, string>,
): string {
  return `not ready: ${down.map((dependency) => words[dependency]).join('; ')}`;
}

/** Triage's and the record worker's: PostgreSQL and Redis, in words. */
export const databaseAndRedisWords: Record<ReadinessDependency, string> = {
  database: 'PostgreSQL is not answering',
  redis: 'Redis is not answering',
};

export const NotReady = notReadyBody(ReadinessDependency);
export type NotReady = Static<typeof NotReady>;
