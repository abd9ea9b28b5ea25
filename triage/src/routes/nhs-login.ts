import { createHash, randomBytes } from 'node:crypto';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type pg from 'pg';
import {
  AppError,
  NhsLoginIdentityView,
  NhsLoginOffer,
  OdsParams,
  refusals,
  type NhsLoginFailure,
} from '@gpc/contracts';
import { findNhsLoginPractice, insertNhsLoginRequest, takeNhsLoginRequest } from '../db/nhs-login';
import { NhsLoginError, type NhsLoginClient } from '../nhs-login/client';
import { hashToken, readNhsLoginSession, startNhsLoginSession } from '../nhs-login/sessions';

export interface NhsLoginRoutesDeps {
  pool: pg.Pool;
  now: () => Date;
  /** Where the web pages are served: the sign-in ends on the practice's form there. */
  publicWebUrl: string;
  /** NHS login, when the service is set up for it; without it no practice offers it. */
  nhsLogin: NhsLoginClient | undefined;
}

/** A sign-in started must come back within this. */
const requestMinutes = 10;

const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 2000 })),
  state: Type.Optional(Type.String({ maxLength: 200 })),
  error: Type.Optional(Type.String({ maxLength: 200 })),
  error_description: Type.Optional(Type.String({ maxLength: 2000 })),
  iss: Type.Optional(Type.String({ maxLength: 500 })),
});

const Redirect = Type.Null({ description: 'A redirect (Location)' });

const schemas = {
  offer: {
    summary: 'Whether the form offers NHS login (public)',
    params: OdsParams,
    response: { 200: NhsLoginOffer, ...refusals(404) },
  },
  start: {
    summary: 'Start signing in with NHS login: redirects to NHS login (public)',
    params: OdsParams,
    response: { 303: Redirect, ...refusals(404, 429) },
  },
  callback: {
    summary: 'Where NHS login sends the browser back: redirects to the form (public)',
    querystring: CallbackQuery,
    response: { 303: Redirect, ...refusals(400, 429) },
  },
  session: {
    summary: 'Who NHS login says the patient is (the session token as bearer; public)',
    response: { 200: NhsLoginIdentityView, ...refusals(401, 409, 429) },
  },
};

/**
 * Sign in with NHS login on the public form (no staff sign-in; rate-limited): the form asks whether
 * the practice offers it; `GET /practices/:ods/nhs-login` starts a sign-in (state, nonce and PKCE
 * verifier kept in PostgreSQL, single use, 10 minutes) and sends the browser to NHS login;
 * `/nhs-login/callback` finishes it and sends the browser back to the form with a session token in
 * the URL fragment (never the query: it reaches no server log or Referer); the form reads the
 * identity with `GET /nhs-login/session`, and sends the token with the request.
 */
export const nhsLoginRoutes: FastifyPluginCallbackTypebox<NhsLoginRoutesDeps> = (app, deps, done) => {
  const redirect = (reply: FastifyReply, to: string) =>
    reply.header('cache-control', 'no-store').redirect(to, 303);
  app.get(
    '/practices/:ods/nhs-login/offer',
    { config: { rateLimit: { max: 60, timeWindow: '1 minute' } }, schema: schemas.offer },
    (request) => offerFor(deps, request.params.ods),
  );
  app.get(
    '/practices/:ods/nhs-login',
    { config: { rateLimit: { max: 20, timeWindow: '1 minute' } }, schema: schemas.start },
    async (request, reply) => redirect(reply, await startSignIn(deps, request.params.ods, request.log)),
  );
  app.get(
    '/nhs-login/callback',
    { config: { rateLimit: { max: 20, timeWindow: '1 minute' } }, schema: schemas.callback },
    async (request, reply) => redirect(reply, await finishSignIn(deps, request.query, request.log)),
  );
  app.get(
    '/nhs-login/session',
    { config: { rateLimit: { max: 60, timeWindow: '1 minute' } }, schema: schemas.session },
    (request) => showSession(deps, request.headers.authorization),
  );
  done();
};

/** The practice's form, with a fragment for the page (a session token, or why there is none). */
const formPage = (deps: NhsLoginRoutesDeps, odsCode: string, fragment: string) =>
  `${deps.publicWebUrl.replace(/\/$/, '')}/form.html?practice=${encodeURIComponent(odsCode)}#${fragment}`;
const failedSignIn = (deps: NhsLoginRoutesDeps, odsCode: string, failure: NhsLoginFailure) =>
  formPage(deps, odsCode, `nhs-login-error=${failure}`);

async function offerFor(deps: NhsLoginRoutesDeps, ods: string): Promise<NhsLoginOffer> {
  const practice = await findNhsLoginPractice(deps.pool, ods);
  if (!practice) throw new AppError('notFound', 'No practice with that code uses this service');
  return { offered: deps.nhsLogin !== undefined && practice.offered };
}

/** Starts a sign-in, kept server-side; where to send the browser (NHS login, or back to the form). */
async function startSignIn(deps: NhsLoginRoutesDeps, ods: string, log: FastifyBaseLogger): Promise<string> {
  const { pool, nhsLogin, now } = deps;
  const practice = await findNhsLoginPractice(pool, ods);
  if (!practice) throw new AppError('notFound', 'No practice with that code uses this service');
  if (!nhsLogin || !practice.offered) return failedSignIn(deps, practice.odsCode, 'not-offered');
  // the ODS code in the state only says which form to go back to if the sign-in is lost
  const state = `${practice.odsCode}~${randomBytes(32).toString('base64url')}`;
  const nonce = randomBytes(32).toString('base64url');
  const codeVerifier = randomBytes(32).toString('base64url');
  const at = now();
  let authorizationUrl: URL;
  try {
    authorizationUrl = await nhsLogin.authorizationUrl({
      state,
      nonce,
      codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    });
  } catch (error) {
    log.warn({ err: error }, 'NHS login unavailable');
    return failedSignIn(deps, practice.odsCode, 'unavailable');
  }
  await insertNhsLoginRequest(pool, {
    stateHash: hashToken(state),
    practiceId: practice.id,
    nonce,
    codeVerifier,
    createdAt: at,
    expiresAt: new Date(at.getTime() + requestMinutes * 60_000),
  });
  return authorizationUrl.toString();
}

/** Finishes a sign-in this service started; where to send the browser: the form, with a session or why not. */
async function finishSignIn(
  deps: NhsLoginRoutesDeps,
  query: Static<typeof CallbackQuery>,
  log: FastifyBaseLogger,
): Promise<string> {
  const { pool, nhsLogin, now } = deps;
  const { code, state, error, iss } = query;
  const odsCode = /^([A-Z0-9]{3,10})~/.exec(state ?? '')?.[1];
  if (!state || !odsCode) throw new AppError('badRequest', 'This is not a sign-in this service started');
  const started = await takeNhsLoginRequest(pool, hashToken(state), now());
  if (!started) return failedSignIn(deps, odsCode, 'expired');
  if (error) return failedSignIn(deps, odsCode, error === 'access_denied' ? 'cancelled' : 'failed');
  if (!nhsLogin || !code) return failedSignIn(deps, odsCode, 'failed');
  try {
    // RFC 9207: an answer from another issuer (a mix-up) is no sign-in
    if (iss !== undefined && iss !== nhsLogin.issuer)
      throw new NhsLoginError('failed', 'the answer names another issuer');
    const identity = await nhsLogin.signIn({
      code,
      codeVerifier: started.codeVerifier,
      nonce: started.nonce,
    });
    const session = await startNhsLoginSession(pool, {
      practiceId: started.practiceId,
      identity,
      now: now(),
    });
    log.info(
      { practiceId: started.practiceId, proofingLevel: identity.proofingLevel },
      'signed in with NHS login',
    );
    return formPage(deps, odsCode, `nhs-login=${session.token}`);
  } catch (failure) {
    if (!(failure instanceof NhsLoginError)) throw failure;
    log.warn({ reason: failure.reason, why: failure.message }, 'NHS login sign-in not used');
    return failedSignIn(deps, odsCode, failure.reason);
  }
}

/** Who the session's NHS login says the patient is; never the NHS number (NHS login's rule). */
async function showSession(
  deps: NhsLoginRoutesDeps,
  authorization: string | undefined,
): Promise<NhsLoginIdentityView> {
  const token = /^Bearer ([A-Za-z0-9_-]{43})$/.exec(authorization ?? '')?.[1];
  if (!token) throw new AppError('unauthorized', 'Sign in with NHS login first');
  const session = await readNhsLoginSession(deps.pool, token, deps.now());
  const { identity } = session;
  return {
    odsCode: session.practiceOdsCode,
    givenName: identity.givenName,
    familyName: identity.familyName,
    birthDate: identity.birthDate,
    proofingLevel: identity.proofingLevel,
    expiresAt: session.expiresAt.toISOString(),
  };
}
