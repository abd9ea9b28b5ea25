import { createHash } from 'node:crypto';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import type pg from 'pg';
import {
  AppError,
  Cis2Offer,
  Cis2SessionBody,
  Cis2StartQuery,
  refusals,
  StaffSession,
  type Cis2Failure,
  type Cis2ReturnPage,
} from '@gpc/contracts';
import { openStaffSession } from '../auth/sessions';
import { Cis2Error, type Cis2Client } from '../cis2/client';
import { staffRoleAt } from '../cis2/roles';
import { recordAudit } from '../db/audit';
import {
  findCis2Practice,
  insertCis2Handover,
  insertCis2Request,
  takeCis2Handover,
  takeCis2Request,
  upsertCis2Staff,
} from '../db/cis2';
import { hashToken, newToken } from '../nhs-login/sessions';

export interface Cis2RoutesDeps {
  pool: pg.Pool;
  now: () => Date;
  /** Where the web pages are served: the sign-in ends on the staff page there. */
  publicWebUrl: string;
  /** NHS CIS2, when the service is set up for it; without it no practice offers it. */
  cis2: Cis2Client | undefined;
}

/** A sign-in started must come back within this; a finished one must be taken by the page within this. */
const requestMinutes = 10;
const handoverSeconds = 60;

const OdsQuery = Type.Object({ ods: Type.String({ pattern: '^[A-Za-z0-9]{3,10}$' }) });
const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 2000 })),
  state: Type.Optional(Type.String({ maxLength: 200 })),
  error: Type.Optional(Type.String({ maxLength: 200 })),
  error_description: Type.Optional(Type.String({ maxLength: 2000 })),
  iss: Type.Optional(Type.String({ maxLength: 500 })),
  // CIS2 (ForgeRock) may add these to its answer
  client_id: Type.Optional(Type.String({ maxLength: 200 })),
  scope: Type.Optional(Type.String({ maxLength: 500 })),
});
const Redirect = Type.Null({ description: 'A redirect (Location)' });

const schemas = {
  offer: {
    summary: 'Whether the practice’s staff may sign in with NHS CIS2 (public)',
    querystring: OdsQuery,
    response: { 200: Cis2Offer, ...refusals(400, 404, 429) },
  },
  start: {
    summary: 'Start a staff sign-in with NHS CIS2: redirects to CIS2 (public)',
    querystring: Cis2StartQuery,
    response: { 303: Redirect, ...refusals(400, 404, 429) },
  },
  callback: {
    summary: 'Where CIS2 sends the browser back: redirects to the staff page (public)',
    querystring: CallbackQuery,
    response: { 303: Redirect, ...refusals(400, 429) },
  },
  session: {
    summary: 'A staff session for a finished CIS2 sign-in (its one-time code, from the page’s fragment)',
    body: Cis2SessionBody,
    response: { 200: StaffSession, ...refusals(400, 401, 429) },
  },
};

/**
 * Staff sign-in with NHS CIS2, under `/auth/cis2` (no staff guard: this is how staff get a token):
 * the sign-in page asks whether the practice offers it; `start` keeps the state, nonce, PKCE
 * verifier and the assurance level asked for in PostgreSQL (single use, 10 minutes) and sends the
 * browser to CIS2; `callback` checks CIS2's answer, finds or adds the member of staff by practice
 * and CIS2 user id with the role their national RBAC roles at the practice's ODS code give, and
 * sends the browser back to the staff page with a one-time code in the URL fragment (never a token
 * in a URL); the page exchanges it at `session` for a staff session like any sign-in's.
 */
export const cis2Routes: FastifyPluginCallbackTypebox<Cis2RoutesDeps> = (app, deps, done) => {
  const redirect = (reply: FastifyReply, to: string) =>
    reply.header('cache-control', 'no-store').redirect(to, 303);
  // per client address: a practice's staff often share one, and all sign in at the start of the day
  const limit = (max: number) => ({ rateLimit: { max, timeWindow: '1 minute' } });
  app.get('/offer', { config: limit(120), schema: schemas.offer }, (request) =>
    offerFor(deps, request.query.ods),
  );
  app.get('/start', { config: limit(60), schema: schemas.start }, async (request, reply) =>
    redirect(reply, await startSignIn(deps, request.query, request.log)),
  );
  app.get('/callback', { config: limit(60), schema: schemas.callback }, async (request, reply) =>
    redirect(reply, await finishSignIn(deps, request.query, request.log)),
  );
  app.post('/session', { config: limit(60), schema: schemas.session }, (request) =>
    openSession(app, deps, request.body.code),
  );
  done();
};

/** The staff page, with a fragment for it (a one-time code, or why there is none). */
const staffPage = (deps: Cis2RoutesDeps, page: Cis2ReturnPage, fragment: string) =>
  `${deps.publicWebUrl.replace(/\/$/, '')}/${page}.html#${fragment}`;
const failedSignIn = (deps: Cis2RoutesDeps, page: Cis2ReturnPage, failure: Cis2Failure) =>
  staffPage(deps, page, `cis2-error=${failure}`);

async function offerFor(deps: Cis2RoutesDeps, ods: string): Promise<Cis2Offer> {
  const practice = await findCis2Practice(deps.pool, ods);
  if (!practice) throw new AppError('notFound', 'No practice with that code uses this service');
  return { offered: deps.cis2 !== undefined && practice.offered };
}

/** Starts a sign-in, kept server-side; where to send the browser (CIS2, or back to the staff page). */
async function startSignIn(
  deps: Cis2RoutesDeps,
  query: Cis2StartQuery,
  log: FastifyBaseLogger,
): Promise<string> {
  const { pool, cis2, now } = deps;
  const page = query.page ?? 'staff';
  const practice = await findCis2Practice(pool, query.ods);
  if (!practice) throw new AppError('notFound', 'No practice with that code uses this service');
  if (!cis2 || !practice.offered) return failedSignIn(deps, page, 'not-offered');
  // the page in the state only says where to go back to if the sign-in is lost
  const state = `${page}~${newToken()}`;
  const nonce = newToken();
  const codeVerifier = newToken();
  const acrValues = cis2.acrValues;
  let authorizationUrl: URL;
  try {
    authorizationUrl = await cis2.authorizationUrl({
      state,
      nonce,
      acrValues,
      codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    });
  } catch (error) {
    log.warn({ err: error }, 'NHS CIS2 unavailable');
    return failedSignIn(deps, page, 'unavailable');
  }
  const at = now();
  await insertCis2Request(pool, {
    stateHash: hashToken(state),
    practiceId: practice.id,
    nonce,
    codeVerifier,
    acrValues,
    returnPage: page,
    createdAt: at,
    expiresAt: new Date(at.getTime() + requestMinutes * 60_000),
  });
  return authorizationUrl.toString();
}

/** Finishes a sign-in this service started; where to send the browser: the staff page, with a code or why not. */
async function finishSignIn(
  deps: Cis2RoutesDeps,
  query: Static<typeof CallbackQuery>,
  log: FastifyBaseLogger,
): Promise<string> {
  const { pool, cis2, now } = deps;
  const { code, state, error, iss } = query;
  const lostPage = /^(staff|settings)~/.exec(state ?? '')?.[1] as Cis2ReturnPage | undefined;
  if (!state || !lostPage) throw new AppError('badRequest', 'This is not a sign-in this service started');
  const started = await takeCis2Request(pool, hashToken(state), now());
  if (!started) return failedSignIn(deps, lostPage, 'expired');
  const page = started.returnPage;
  if (error) return failedSignIn(deps, page, error === 'access_denied' ? 'cancelled' : 'failed');
  if (!cis2 || !code) return failedSignIn(deps, page, 'failed');
  try {
    // RFC 9207: an answer from another issuer (a mix-up) is no sign-in
    if (iss !== undefined && iss !== cis2.issuer)
      throw new Cis2Error('failed', 'the answer names another issuer');
    const identity = await cis2.signIn({
      code,
      codeVerifier: started.codeVerifier,
      nonce: started.nonce,
      acrValues: started.acrValues,
    });
    const role = staffRoleAt(identity.roles, started.practiceOdsCode);
    if (!role) {
      log.warn({ practiceId: started.practiceId }, 'NHS CIS2 sign-in with no role at this practice');
      return failedSignIn(deps, page, 'no-role');
    }
    const staff = await upsertCis2Staff(pool, {
      practiceId: started.practiceId,
      cis2Uid: identity.uid,
      name: identity.name,
      role,
    });
    if (!staff.active) {
      log.warn(
        { practiceId: staff.practiceId, staffId: staff.id },
        'stopped member of staff signed in with NHS CIS2',
      );
      return failedSignIn(deps, page, 'stopped');
    }
    const handover = newToken();
    const at = now();
    await insertCis2Handover(pool, {
      codeHash: hashToken(handover),
      staffId: staff.id,
      createdAt: at,
      expiresAt: new Date(at.getTime() + handoverSeconds * 1000),
    });
    await recordAudit(pool, {
      practiceId: staff.practiceId,
      actor: staff.id,
      action: `login with NHS CIS2 (${identity.acr}, ${role})`,
      entity: 'staff',
      entityId: staff.id,
    });
    return staffPage(deps, page, `cis2=${handover}`);
  } catch (failure) {
    if (!(failure instanceof Cis2Error)) throw failure;
    log.warn({ reason: failure.reason, why: failure.message }, 'NHS CIS2 sign-in not used');
    return failedSignIn(deps, page, failure.reason);
  }
}

/** The session for a finished sign-in's one-time code, as every sign-in route ends. */
async function openSession(app: FastifyInstance, deps: Cis2RoutesDeps, code: string): Promise<StaffSession> {
  const staff = await takeCis2Handover(deps.pool, hashToken(code), deps.now());
  if (!staff)
    throw new AppError('unauthorized', 'That NHS CIS2 sign-in has run out or was used: sign in again');
  return openStaffSession(app, deps.pool, staff);
}
