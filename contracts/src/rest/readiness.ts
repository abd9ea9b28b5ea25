import { Type, type Static } from '@sinclair/typebox';

/**
 * `GET /readyz`: whether triage can do all its work now. `/health` stays the liveness check (the
 * process answers and PostgreSQL with it); readiness also needs Redis (queues, live updates), and
 * names what is down while it is not ready. A load balancer or orchestrator reads this one.
 */
export const ReadinessDependency = Type.Union([Type.Literal('database'), Type.Literal('redis')]);
export type ReadinessDependency = Static<typeof ReadinessDependency>;

export const Ready = Type.Object({ status: Type.Literal('ready') });
export type Ready = Static<typeof Ready>;

export const NotReady = Type.Object({
  status: Type.Literal('not-ready'),
  down: Type.Array(ReadinessDependency),
});
export type NotReady = Static<typeof NotReady>;
