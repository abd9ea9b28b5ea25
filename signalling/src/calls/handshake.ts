import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AppError, HandshakeAuth } from '@gpc/contracts';
import { mayHostCalls, type TokenService } from '../auth/tokens';
import type { CallRegistry } from './call-registry';
import type { CallSession, Newcomer } from './call-session';
import type { CallSocket } from './call-socket';

const handshakeChecker = TypeCompiler.Compile(HandshakeAuth);

interface Arrival {
  session: CallSession;
  participant: Newcomer;
}

/** An Error for socket.io's connect_error: its message is the stable code the client acts on. */
function refusal(code: string): Error & { data: { code: string } } {
  return Object.assign(new Error(code), { data: { code } });
}

/** The call and the participant a handshake's token names: staff say which call, a link is bound to one. */
function arrivalFrom(auth: unknown, calls: CallRegistry, tokens: TokenService): Arrival {
  if (!handshakeChecker.Check(auth)) throw new AppError('unauthorized', 'a token is required');
  const verified = tokens.verify(auth.token);
  if (verified.kind === 'staff') {
    const { claims } = verified;
    if (!mayHostCalls(claims.role)) throw new AppError('forbidden', 'only clinicians can join video calls');
    const session = auth.callId ? calls.get(auth.callId, claims.practiceId) : undefined;
    if (!session) throw new AppError('notFound', 'no such call');
    return { session, participant: { id: claims.sub, name: claims.name, role: 'clinician' } };
  }
  const { claims } = verified;
  const session = calls.get(claims.callId, claims.practiceId);
  if (!session) throw new AppError('notFound', 'no such call');
  return { session, participant: { id: claims.sub, name: claims.name, role: claims.role } };
}

/**
 * socket.io middleware: a connection comes in only with a valid token for a call of its practice,
 * and speaks for the participant the token names; refusals carry our error code.
 */
export function authenticateHandshake(calls: CallRegistry, tokens: TokenService) {
  return (socket: CallSocket, next: (error?: Error) => void): void => {
    try {
      const { session, participant } = arrivalFrom(socket.handshake.auth, calls, tokens);
      session.enter(participant);
      socket.data = { session, participantId: participant.id };
      next();
    } catch (error) {
      next(refusal(error instanceof AppError ? error.code : 'unauthorized'));
    }
  };
}
