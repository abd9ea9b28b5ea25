import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AppError, StaffTokenClaims, type StaffRole } from '@gpc/contracts';
import type { TokenKeys } from './token-keys';

declare module 'fastify' {
  interface FastifyInstance {
    /** Triage's token keys: every token it issues is signed, and every one it takes verified, here. */
    tokens: TokenKeys;
  }
  interface FastifyRequest {
    /** The signed-in member of staff; set by `requireStaff`. */
    staff: StaffTokenClaims;
  }
  interface FastifyContextConfig {
    /** The staff roles a route under `requireStaff` allows; every role when absent. */
    roles?: readonly StaffRole[];
  }
}

/**
 * Access tokens are short-lived (a stopped or demoted member of staff keeps theirs at most this
 * long); the refresh token (in the database) renews them.
 */
export const accessTokenSeconds = 5 * 60;

const checkClaims = TypeCompiler.Compile(StaffTokenClaims);

export function registerStaffAuth(app: FastifyInstance, tokens: TokenKeys): void {
  app.decorate('tokens', tokens);
  app.decorateRequest('staff', null as unknown as StaffTokenClaims);
}

/** A signed staff access token for these claims. */
export const signStaffToken = (tokens: TokenKeys, claims: StaffTokenClaims): string =>
  tokens.sign('staff', claims, accessTokenSeconds);

/** The staff claims of a bearer token, or undefined when it is not a valid staff access token. */
export function staffClaimsOf(tokens: TokenKeys, token: string): StaffTokenClaims | undefined {
  try {
    const claims = tokens.verify('staff', token);
    return checkClaims.Check(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

const everyRole: readonly StaffRole[] = ['admin', 'clinician', 'reception'];

/**
 * A route group's guard, added once per plugin (`app.addHook('preHandler', requireStaff)`): every
 * route in the plugin needs a valid staff access token, and a route that allows fewer roles than
 * all says so in its options, `config: { roles: ['admin'] }`.
 */
export function requireStaff(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  return checkStaff(request, request.routeOptions.config.roles ?? everyRole);
}

/** `requireStaff` for a route group only these roles may use (e.g. the admins' settings and staff). */
export function requireStaffOf(...roles: StaffRole[]) {
  return (request: FastifyRequest, _reply: FastifyReply): Promise<void> =>
    checkStaff(request, request.routeOptions.config.roles ?? roles);
}

async function checkStaff(request: FastifyRequest, roles: readonly StaffRole[]): Promise<void> {
  request.staff = await Promise.resolve(staffOf(request, roles));
}

/** The request's member of staff, from its bearer token, if they have one of these roles. */
function staffOf(request: FastifyRequest, roles: readonly StaffRole[]): StaffTokenClaims {
  const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
  let claims: Record<string, unknown>;
  try {
    claims = request.server.tokens.verify('staff', token ?? '');
  } catch {
    throw new AppError('unauthorized', 'sign in again: the access token is missing, invalid or expired');
  }
  if (!checkClaims.Check(claims)) throw new AppError('unauthorized', 'not a staff access token');
  if (!roles.includes(claims.role))
    throw new AppError('forbidden', `this needs one of the roles: ${roles.join(', ')}`);
  return claims;
}
