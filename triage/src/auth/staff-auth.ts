import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AppError, StaffTokenClaims, type StaffRole } from '@gpc/contracts';

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: StaffTokenClaims;
    user: StaffTokenClaims;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in member of staff; set by `requireStaff`. */
    staff: StaffTokenClaims;
  }
  interface FastifyContextConfig {
    /** The staff roles a route under `requireStaff` allows; every role when absent. */
    roles?: readonly StaffRole[];
  }
}

/** Access tokens are short-lived; the refresh token (in the database) renews them. */
export const accessTokenSeconds = 15 * 60;

const checkClaims = TypeCompiler.Compile(StaffTokenClaims);

export async function registerStaffAuth(app: FastifyInstance, jwtSecret: string): Promise<void> {
  await app.register(fastifyJwt, { secret: jwtSecret, sign: { expiresIn: accessTokenSeconds } });
  app.decorateRequest('staff', null as unknown as StaffTokenClaims);
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
  let claims: unknown;
  try {
    claims = await request.jwtVerify();
  } catch {
    throw new AppError('unauthorized', 'sign in again: the access token is missing, invalid or expired');
  }
  const { iat: _iat, exp: _exp, ...rest } = claims as Record<string, unknown>;
  if (!checkClaims.Check(rest)) throw new AppError('unauthorized', 'not a staff access token');
  if (!roles.includes(rest.role))
    throw new AppError('forbidden', `this needs one of the roles: ${roles.join(', ')}`);
  request.staff = rest;
}
