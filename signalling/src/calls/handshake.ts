import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AppError, HandshakeAuth } from '@gpc/contracts';
import type { TokenService } from '../auth/tokens';
import type { Arrival, CallRegistry } from './call-registry';
import type { CallSocket } from './call-socket';

const handshakeChecker = TypeCompiler.Compile(HandshakeAuth);

/**
 * An Error for socket.io's connect_error: its message is the stable code the client acts on, its
 * data the words a person is shown (e.g. "This call has ended").
 */
function refusal(error: unknown): Error & { data: { code: string; message: string } } {
  const code = error instanceof AppError ? error.code : 'unauthorized';
  const message = error instanceof AppError ? error.message : 'token not valid';
  return Object.assign(new Error(code), { data: { code, message } });
}

/**
 * The call and the participant a handshake's call token names (triage signed it for one call, one
 * participant and one role: a link's patient or guest, or the host, whose `sub` is their staff id).
 * The first valid token for a call opens it on this node.
 */
async function arrivalFrom(auth: unknown, calls: CallRegistry, tokens: TokenService): Promise<Arrival> {
  if (!handshakeChecker.Check(auth)) throw new AppError('unauthorized', 'a token is required');
  const claims = await tokens.verify(auth.token);
  return calls.arrive(claims, auth.holderKey);
}

/**
 * socket.io middleware: a connection comes in only with a valid token for a call of its practice,
 * and speaks for the participant the token names; refusals carry our error code.
 */
export function authenticateHandshake(calls: CallRegistry, tokens: TokenService) {
  const admit = async (socket: CallSocket, next: (error?: Error) => void): Promise<void> => {
    try {
      const { session, participantId, holderKey } = await arrivalFrom(socket.handshake.auth, calls, tokens);
      socket.data = {
        session,
        participantId,
        // staff are matched by this when their access is revoked (staff-revocation.ts)
        ...(holderKey === undefined ? { staffId: participantId } : { holderKey }),
      };
      next();
    } catch (error) {
      next(refusal(error));
    }
  };
  return (socket: CallSocket, next: (error?: Error) => void): void => void admit(socket, next);
}
