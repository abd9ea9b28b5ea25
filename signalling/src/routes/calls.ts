import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  AppError,
  CreateCallBody,
  CreateCallResult,
  ErrorBody,
  InviteGuestBody,
  InviteGuestResult,
  type CallGuestRole,
  type StaffTokenClaims,
} from '@gpc/contracts';
import { mayHostCalls, type TokenService } from '../auth/tokens';
import type { CallRegistry } from '../calls/call-registry';
import type { CallSession } from '../calls/call-session';

export interface CallRoutesDeps {
  calls: CallRegistry;
  tokens: TokenService;
  /** Where the web pages are served: the patient's link points there. */
  publicWebUrl: string;
  callLinkTtlSeconds: number;
}

/** Clinicians (and admins) of a practice create calls for its consultations and invite guests. */
function staffFrom(request: FastifyRequest, tokens: TokenService): StaffTokenClaims {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer (\S+)$/.exec(header);
  if (!match?.[1]) throw new AppError('unauthorized', 'a staff access token is required');
  const verified = tokens.verify(match[1]);
  if (verified.kind !== 'staff') throw new AppError('unauthorized', 'a staff access token is required');
  if (!mayHostCalls(verified.claims.role))
    throw new AppError('forbidden', 'only clinicians can start video calls');
  return verified.claims;
}

export function registerCallRoutes(app: FastifyInstance, deps: CallRoutesDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const expiry = () => new Date(Date.now() + deps.callLinkTtlSeconds * 1000).toISOString();
  /** A link that lets one new participant, with this role and name, into the call. */
  const link = (call: CallSession, role: CallGuestRole, name: string) => {
    const claims = {
      typ: 'call' as const,
      sub: randomUUID(),
      callId: call.id,
      practiceId: call.practiceId,
      role,
      name,
    };
    const token = deps.tokens.sign(claims, deps.callLinkTtlSeconds);
    return `${deps.publicWebUrl.replace(/\/$/, '')}/call.html#t=${token}`;
  };

  typed.post(
    '/calls',
    {
      schema: {
        body: CreateCallBody,
        response: { 201: CreateCallResult, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request, reply) => {
      const staff = staffFrom(request, deps.tokens);
      const call = deps.calls.create(
        staff.practiceId,
        request.body.consultationId,
        staff.sub,
        deps.callLinkTtlSeconds,
      );
      const patientLink = link(call, 'patient', request.body.patientName);
      request.log.info({ callId: call.id, consultationId: call.consultationId }, 'call created');
      return reply.code(201).send({ callId: call.id, patientLink, expiresAt: expiry() });
    },
  );

  typed.post(
    '/calls/:callId/guests',
    {
      schema: {
        params: Type.Object({ callId: Type.String({ minLength: 1, maxLength: 100 }) }),
        body: InviteGuestBody,
        response: { 201: InviteGuestResult, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const staff = staffFrom(request, deps.tokens);
      const call = deps.calls.get(request.params.callId, staff.practiceId);
      if (!call) throw new AppError('notFound', 'no such call');
      return reply.code(201).send({ link: link(call, 'guest', request.body.name), expiresAt: expiry() });
    },
  );
}
