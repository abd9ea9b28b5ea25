import { randomUUID } from 'node:crypto';
import { CallSession, type CallSessionDeps } from './call-session';

/** The calls this node holds, each a session; a call belongs to one practice. */
export class CallRegistry {
  private readonly sessions = new Map<string, CallSession>();

  constructor(private readonly deps: CallSessionDeps) {}

  create(practiceId: string, consultationId: string, createdBy: string, ttlSeconds: number): CallSession {
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    const session = new CallSession(
      randomUUID(),
      practiceId,
      consultationId,
      createdBy,
      expiresAt,
      this.deps,
    );
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
