import { randomUUID } from 'node:crypto';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import {
  AppError,
  CallParams,
  CallPlacement,
  CreateCallBody,
  CreateCallResult,
  HostTokenResult,
  InviteGuestBody,
  InviteGuestResult,
  refusals,
  tokenTimes,
  type CallTokenClaims,
  type CallTokenRole,
  type StaffTokenClaims,
} from '@gpc/contracts';
import { requireStaffOf } from '../auth/staff-auth';
import type { TokenKeys } from '../auth/token-keys';
import { recordAudit } from '../db/audit';
import { findPatientNameForCall, findVideoCall, insertVideoCall, type VideoCallRow } from '../db/calls';
import { withTransaction } from '../db/transaction';
import { placeCall } from '../calls/placement';
import { withRedis } from '../redis';

export interface CallRoutesDeps {
  pool: pg.Pool;
  /** Where the web pages are served: the patient's and guests' links point there. */
  publicWebUrl: string;
  /** How long a call's links let people in. */
  callLinkTtlSeconds: number;
  /** Where call nodes announce themselves: calls are placed on one; the web server's node otherwise. */
  placement?: Redis;
}

/** A host token lets the member of staff join (or rejoin) the call for this long; the page fetches another for a reconnect. */
export const hostTokenSeconds = 5 * 60;

/**
 * `/calls`: video calls for a practice's requests, made here and run on a call node. A clinician or
 * admin starts one (the patient's name comes from the request, never from the page), invites guests,
 * and joins with a short host token; the call node only verifies the tokens triage signs (aud
 * signalling). Starting and inviting are audited. See contracts/src/rest/calls.ts.
 */
export const callRoutes: FastifyPluginCallbackTypebox<CallRoutesDeps> = (app, deps, done) => {
  app.addHook('preHandler', requireStaffOf('clinician', 'admin'));
  const linkTo = (call: VideoCallRow, role: 'patient' | 'guest', name: string) =>
    callLink(app.tokens, deps.publicWebUrl, call, role, name);

  app.post(
    '/',
    {
      schema: {
        summary:
          'Start a video call for a request: the patient’s link and the host token (clinicians, admins; audited)',
        body: CreateCallBody,
        response: { 201: CreateCallResult, ...refusals(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { call, patientName } = await startCall(deps, request.staff, request.body.consultationId);
      const node = await placed(deps.placement, call, deps.publicWebUrl);
      request.log.info(
        { callId: call.id, consultationId: call.consultationId, node: node?.nodeId },
        'call created',
      );
      return reply.code(201).send({
        callId: call.id,
        patientLink: linkTo(call, 'patient', patientName),
        expiresAt: call.linksExpireAt.toISOString(),
        hostToken: hostToken(app.tokens, call, request.staff, hostTokenSecondsFor(request)),
        ...(node ? { nodeUrl: node.nodeUrl } : {}),
      });
    },
  );

  app.post(
    '/:callId/guests',
    {
      schema: {
        summary: 'A link for an interpreter or carer to join the call (clinicians, admins; audited)',
        params: CallParams,
        body: InviteGuestBody,
        response: { 201: InviteGuestResult, ...refusals(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const call = await openCall(deps.pool, request.staff.practiceId, request.params.callId);
      if (call.linksExpireAt <= new Date()) throw new AppError('conflict', 'This call’s links have expired');
      await recordAudit(deps.pool, {
        practiceId: call.practiceId,
        actor: request.staff.sub,
        action: 'invite guest to video call',
        entity: 'video_call',
        entityId: call.id,
      });
      const link = linkTo(call, 'guest', request.body.name);
      return reply.code(201).send({ link, expiresAt: call.linksExpireAt.toISOString() });
    },
  );

  app.post(
    '/:callId/host-token',
    {
      schema: {
        summary: 'A fresh host token for the call, to join or rejoin it (clinicians, admins)',
        params: CallParams,
        response: { 200: HostTokenResult, ...refusals(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const call = await openCall(deps.pool, request.staff.practiceId, request.params.callId);
      const ttlSeconds = hostTokenSecondsFor(request);
      const node = await placed(deps.placement, call, deps.publicWebUrl);
      return {
        token: hostToken(app.tokens, call, request.staff, ttlSeconds),
        expiresIn: ttlSeconds,
        ...(node ? { nodeUrl: node.nodeUrl } : {}),
      };
    },
  );
  done();
};

export interface CallPlacementRoutesDeps {
  pool: pg.Pool;
  /** This site: calls are placed only on nodes reached through it (or on nodes with an origin of their own). */
  publicWebUrl: string;
  placement: Redis;
}

/**
 * `GET /call-placement`: where the call of the call token (`Authorization: Bearer`, as the call
 * node verifies it) lives now, placed again if its node stopped. The patient's and guests' pages
 * ask it before each join and rejoin; the holder key then resumes them there without a new admission.
 */
export const callPlacementRoutes: FastifyPluginCallbackTypebox<CallPlacementRoutesDeps> = (
  app,
  deps,
  done,
) => {
  app.get(
    '/',
    {
      schema: {
        summary: 'Where a call lives now, for the bearer of one of its call tokens',
        response: { 200: CallPlacement, ...refusals(401, 404, 409, 503) },
      },
    },
    async (request) => {
      const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      const claims = bearer ? verifiedCall(app.tokens, bearer) : undefined;
      if (!claims) throw new AppError('unauthorized', 'A valid call token is needed');
      const call = await openCall(deps.pool, claims.practiceId, claims.callId);
      return (await placed(deps.placement, call, deps.publicWebUrl))!;
    },
  );
  done();
};

/** The call a call token names, or undefined when it is not one of ours, not a call token or expired. */
function verifiedCall(tokens: TokenKeys, token: string): { practiceId: string; callId: string } | undefined {
  try {
    const claims = tokens.verify('call', token);
    const { practiceId, callId } = claims;
    return typeof practiceId === 'string' && typeof callId === 'string' ? { practiceId, callId } : undefined;
  } catch {
    return undefined;
  }
}

/** Where the call lives (placed now if it was not, or if its node stopped); none without placement. */
async function placed(
  redis: Redis | undefined,
  call: VideoCallRow,
  site: string,
): Promise<CallPlacement | undefined> {
  if (!redis) return undefined;
  const ttlSeconds = Math.max(60, Math.ceil((call.linksExpireAt.getTime() - Date.now()) / 1000));
  try {
    return await withRedis(redis, () => placeCall(redis, call.id, ttlSeconds, site));
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('unavailable', 'Calls cannot be placed just now; try again shortly');
  }
}

/** Records the call and its audit event together; the patient's name is the request's own. */
async function startCall(
  deps: CallRoutesDeps,
  staff: StaffTokenClaims,
  consultationId: string,
): Promise<{ call: VideoCallRow; patientName: string }> {
  return withTransaction(deps.pool, async (client) => {
    const patientName = await findPatientNameForCall(client, staff.practiceId, consultationId);
    if (patientName === undefined) throw new AppError('notFound', 'No such request');
    const call = await insertVideoCall(client, {
      practiceId: staff.practiceId,
      consultationId,
      createdBy: staff.sub,
      linksExpireAt: new Date(Date.now() + deps.callLinkTtlSeconds * 1000),
    });
    await recordAudit(client, {
      practiceId: staff.practiceId,
      actor: staff.sub,
      action: 'start video call',
      entity: 'video_call',
      entityId: call.id,
    });
    return { call, patientName };
  });
}

/** The practice's call, still going; refused when missing or ended. */
async function openCall(pool: pg.Pool, practiceId: string, callId: string): Promise<VideoCallRow> {
  const call = await findVideoCall(pool, practiceId, callId);
  if (!call) throw new AppError('notFound', 'No such call');
  if (call.endedAt) throw new AppError('conflict', 'This call has ended');
  return call;
}

function callClaims(call: VideoCallRow, sub: string, name: string, role: CallTokenRole): CallTokenClaims {
  return {
    typ: 'call',
    sub,
    practiceId: call.practiceId,
    name: name.slice(0, 200),
    callId: call.id,
    consultationId: call.consultationId,
    role,
  };
}

/** The member of staff as the call's host (`sub` = their staff id), for a few minutes. */
function hostToken(
  tokens: TokenKeys,
  call: VideoCallRow,
  staff: StaffTokenClaims,
  ttlSeconds: number,
): string {
  return tokens.sign('call', callClaims(call, staff.sub, staff.name, 'clinician'), ttlSeconds);
}

/**
 * A host token lasts no longer than the access token that asked for it: while Redis is down (no
 * revocation reaches the call node), a stopped or demoted member's call then ends when their
 * access token would have, within its 5 minutes, not up to a host token's lifetime later.
 */
function hostTokenSecondsFor(request: FastifyRequest): number {
  const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
  const { expiresAt } = tokenTimes(bearer);
  if (expiresAt === undefined) return hostTokenSeconds;
  return Math.max(1, Math.min(hostTokenSeconds, expiresAt - Math.floor(Date.now() / 1000)));
}

/** A link that lets one new participant, with this role and name, into the call until its links expire. */
function callLink(
  tokens: TokenKeys,
  publicWebUrl: string,
  call: VideoCallRow,
  role: 'patient' | 'guest',
  name: string,
): string {
  const ttlSeconds = Math.max(1, Math.floor((call.linksExpireAt.getTime() - Date.now()) / 1000));
  const token = tokens.sign('call', callClaims(call, randomUUID(), name, role), ttlSeconds);
  return `${publicWebUrl.replace(/\/$/, '')}/call.html#t=${token}`;
}
