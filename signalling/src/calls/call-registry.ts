import type { CallTokenClaims } from '@gpc/contracts';
import { CallSession, type CallSessionDeps } from './call-session';

/** The calls this node holds, each a session; a call belongs to one practice. */
export class CallRegistry {
  private readonly sessions = new Map<string, CallSession>();

  constructor(private readonly deps: CallSessionDeps) {}

  /**
   * The call a valid call token names, opened here on its first token (triage made the call and
   * signed the token). Undefined when the id is another practice's call, or another consultation's.
   */
  openFor(
    claims: Pick<CallTokenClaims, 'callId' | 'practiceId' | 'consultationId'>,
  ): CallSession | undefined {
    const open = this.sessions.get(claims.callId);
    if (open)
      return open.practiceId === claims.practiceId && open.consultationId === claims.consultationId
        ? open
        : undefined;
    const session = new CallSession(claims.callId, claims.practiceId, claims.consultationId, this.deps);
    this.sessions.set(session.id, session);
    return session;
  }

  /** A call of this practice; another practice's call is as good as missing. */
  get(callId: string, practiceId: string): CallSession | undefined {
    const session = this.sessions.get(callId);
    return session && session.practiceId === practiceId ? session : undefined;
  }

  all(): IterableIterator<CallSession> {
    return this.sessions.values();
  }

  delete(callId: string): void {
    this.sessions.get(callId)?.close();
    this.sessions.delete(callId);
  }
}
