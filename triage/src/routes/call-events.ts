import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { AppError, CallEventBatch, CallEventsAccepted, refusals, type CallEvent } from '@gpc/contracts';
import type { CallNodeKeys } from '../auth/call-node-keys';
import {
  attendanceAdmitted,
  attendanceJoined,
  attendanceLeft,
  attendancesEndedWithCall,
  qualityReported,
  type EventOutcome,
} from '../db/call-data';
import { markVideoCallEnded } from '../db/calls';
import { withTransaction } from '../db/transaction';
import type { Queryable } from '../db/queryable';

export interface CallEventRoutesDeps {
  pool: pg.Pool;
  /** The call nodes' public keys; without them no one may post call events. */
  callNodes: CallNodeKeys | undefined;
}

/**
 * `/internal/call-events`: the call nodes' events (joins, leaves, quality summaries, ends), which
 * triage stores as the practice's call data. Only a call node's own token opens it (never a staff
 * token, nor any other token triage signs); each event is checked against its contract and
 * recorded at most once by its id, so a call node may send a post again until it is answered.
 */
export const callEventRoutes: FastifyPluginCallbackTypebox<CallEventRoutesDeps> = (app, deps, done) => {
  // before the body is read: a post without a call node's token is refused whatever it carries
  app.addHook('onRequest', async (request) => {
    request.log.debug({ node: await callNodeOf(deps.callNodes, request) }, 'call node');
  });

  app.post(
    '/call-events',
    {
      // one call node posts for all its calls; a backlog after an outage drains in posts of 100
      config: { rateLimit: { max: 3000, timeWindow: '1 minute' } },
      schema: {
        summary: 'Call events from a call node, recorded once each (call nodes only)',
        body: CallEventBatch,
        response: { 200: CallEventsAccepted, ...refusals(400, 401) },
      },
    },
    async (request) => recordCallEvents(deps.pool, request.body.events),
  );
  done();
};

async function callNodeOf(keys: CallNodeKeys | undefined, request: FastifyRequest): Promise<string> {
  const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (!keys || !token) throw new AppError('unauthorized', 'a call node token is required');
  return keys.verify(token);
}

/** Records a post's events in order, in one transaction, and counts what became of them. */
export async function recordCallEvents(pool: pg.Pool, events: CallEvent[]): Promise<CallEventsAccepted> {
  return withTransaction(pool, async (client) => {
    const counts = { recorded: 0, alreadyRecorded: 0, notRecorded: 0 };
    for (const event of events) counts[await recordCallEvent(client, event)] += 1;
    return counts;
  });
}

async function recordCallEvent(db: Queryable, event: CallEvent): Promise<EventOutcome> {
  switch (event.type) {
    case 'joined':
      return attendanceJoined(db, event);
    case 'admitted':
      return attendanceAdmitted(db, event);
    case 'left':
      return attendanceLeft(db, event);
    case 'quality':
      return qualityReported(db, event);
    case 'ended': {
      const outcome = await markVideoCallEnded(db, event);
      if (outcome === 'notFound') return 'notRecorded';
      await attendancesEndedWithCall(db, event);
      return outcome === 'ended' ? 'recorded' : 'alreadyRecorded';
    }
  }
}
