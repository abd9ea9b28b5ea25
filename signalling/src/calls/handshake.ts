import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AppError, HandshakeAuth } from '@gpc/contracts';
import type { TokenService } from '../auth/tokens';
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

/**
 * The call and the participant a handshake's call token names (triage signed it for one call, one
 * participant and one role: a link's patient or guest, or the host, whose `sub` is their staff id).
 * The first valid token for a call opens it on this node.
 */
async function arrivalFrom(auth: unknown, calls: CallRegistry, tokens: TokenService): Promise<Arrival> {
  if (!handshakeChecker.Check(auth)) throw new AppError('unauthorized', 'a token is required');
  const claims = await tokens.verify(auth.token);
  const session = calls.openFor(claims);
  if (!session) throw new AppError('notFound', 'no such call');
  return { session, participant: { id: claims.sub, name: claims.name, role: claims.role } };
}

/**
 * socket.io middleware: a connection comes in only with a valid token for a call of its practice,
 * and speaks for the participant the token names; refusals carry our error code.
 */
export function authenticateHandshake(calls: CallRegistry, tokens: TokenService) {
  return async (socket: CallSocket, next: (error?: Error) => void): Promise<void> => {
    try {
      const { session, participant } = await arrivalFrom(socket.handshake.auth, calls, tokens);
      session.enter(participant);
      socket.data = {
        session,
        participantId: participant.id,
        // staff are matched by this when their access is revoked (staff-revocation.ts)
        ...(participant.role === 'clinician' ? { staffId: participant.id } : {}),
      };
      next();
    } catch (error) {
      next(refusal(error instanceof AppError ? error.code : 'unauthorized'));
    }
  };
}
