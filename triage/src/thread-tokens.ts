import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AppError } from '@gpc/contracts';

/**
 * The patient's tokens for a thread, signed and verified by triage alone: the link staff send
 * (two weeks, sent by email or text, so it only opens the date-of-birth check) and the short
 * session the right date of birth gives. Each is bound to one practice and one request.
 */

const linkDays = 14;
const sessionMinutes = 30;
const linkInvalid = 'This link has expired or is not valid. Contact your GP surgery.';

const ThreadLinkClaims = Type.Object({
  typ: Type.Literal('thread'),
  consultationId: Type.String(),
  practiceId: Type.String(),
});
const ThreadSessionClaims = Type.Object({
  typ: Type.Literal('thread-session'),
  consultationId: Type.String(),
  practiceId: Type.String(),
});
export type ThreadSessionClaims = Static<typeof ThreadSessionClaims>;
const checkLink = TypeCompiler.Compile(ThreadLinkClaims);
const checkSession = TypeCompiler.Compile(ThreadSessionClaims);

/** Which request's thread, of which practice. */
export interface ThreadRef {
  consultationId: string;
  practiceId: string;
}

/** A signed link to the patient's thread, valid for two weeks; the thread also asks for their date of birth. */
export function threadLinkFor(
  app: FastifyInstance,
  publicWebUrl: string,
  consultationId: string,
  practiceId: string,
): string {
  const token = app.tokens.sign(
    'threadLink',
    { typ: 'thread', consultationId, practiceId },
    linkDays * 86400,
  );
  return `${publicWebUrl.replace(/\/$/, '')}/thread.html#t=${token}`;
}

/** The thread a link's token opens; refused when expired, forged or of another kind. */
export function verifyThreadLink(app: FastifyInstance, token: string): ThreadRef {
  let claims: unknown;
  try {
    claims = app.tokens.verify('threadLink', token);
  } catch {
    throw new AppError('unauthorized', linkInvalid);
  }
  if (!checkLink.Check(claims)) throw new AppError('unauthorized', linkInvalid);
  return { consultationId: claims.consultationId, practiceId: claims.practiceId };
}

/** Refuses a thread that no longer opens, in the same words as a bad link. */
export const threadLinkInvalid = () => new AppError('unauthorized', linkInvalid);

/** The short session the right date of birth gives, for reading and replying. */
export function signThreadSession(app: FastifyInstance, thread: ThreadRef): string {
  const claims = {
    typ: 'thread-session',
    consultationId: thread.consultationId,
    practiceId: thread.practiceId,
  };
  return app.tokens.sign('threadSession', claims, sessionMinutes * 60);
}

/** The thread session of the request's bearer token; refused when missing, expired or of another kind. */
export function verifyThreadSession(app: FastifyInstance, request: FastifyRequest): ThreadSessionClaims {
  const header = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
  try {
    const claims = app.tokens.verify('threadSession', header);
    if (checkSession.Check(claims)) return claims;
  } catch {
    // fall through
  }
  throw new AppError('unauthorized', 'Open the link again and enter your date of birth');
}
