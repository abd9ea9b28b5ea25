import type { CallTokenClaims } from '@gpc/contracts';
import { AppError } from '@gpc/contracts';
import { hashHolderKey, newHolderKey, type LinkArrival } from './call-links';
import { CallSession, type CallSessionDeps, type Newcomer } from './call-session';

/** What Redis answers of a device it lets in (not refused). */
type LetIn = Exclude<LinkArrival, { kind: 'ended' | 'elsewhere' | 'removed' }>;

/** A device let in at the handshake: its call, who it speaks for, and the key it keeps (a link's device). */
export interface Arrival {
  session: CallSession;
  participantId: string;
  holderKey: string | undefined;
}

/** How often this node tells Redis its occupied calls are alive, and looks for idle ones to end. */
const sweepMs = (idleMs: number) => Math.max(200, Math.min(idleMs / 3, 20_000));

/**
 * The calls this node holds, each a session; a call belongs to one practice. A call opens here on
 * its first valid token (triage made it and signed the token; Redis keeps whether it lives, who
 * holds each of its links and who was admitted, for every node). While anyone is connected to a
 * call here it is kept alive in Redis; a call nobody is connected to for the idle time ends.
 */
export class CallRegistry {
  private readonly sessions = new Map<string, CallSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly deps: CallSessionDeps) {
    this.sweeper = setInterval(() => void this.sweep(), sweepMs(deps.links.idleMs));
    this.sweeper.unref();
    // after an outage longer than the idle time, keep occupied calls alive before any token comes
    deps.links.onReconnected(() => void this.sweep());
  }

  /**
   * The call and participant a valid call token names, as Redis has them: the host; the link's
   * holder (its first opener, or back with its key); or a second device on a held link. Refused
   * when the call ended, is another practice's or consultation's, or the link was removed; and with
   * `unavailable` ("try again") while Redis cannot be asked.
   */
  async arrive(
    claims: Pick<CallTokenClaims, 'callId' | 'practiceId' | 'consultationId' | 'sub' | 'name' | 'role'>,
    presentedKey: string | undefined,
  ): Promise<Arrival> {
    const { role } = claims;
    const newKey = newHolderKey();
    const link = role === 'clinician' ? undefined : { linkId: claims.sub, presentedKey, newKey };
    const outcome = await this.deps.links.arrive(claims, link);
    if (outcome.kind === 'ended') throw new AppError('notFound', 'This call has ended');
    if (outcome.kind === 'elsewhere') throw new AppError('notFound', 'no such call');
    if (outcome.kind === 'removed') throw new AppError('forbidden', 'removed from this call');
    const session = this.open(claims);
    if (!session) throw new AppError('notFound', 'no such call');
    const arrival = link ? await this.heldHere(session, claims, link.presentedKey, outcome) : outcome;
    let newcomer: Newcomer;
    let holderKey: string | undefined;
    if (role === 'clinician' || arrival.kind === 'host') {
      newcomer = { kind: 'host', id: claims.sub, name: claims.name };
    } else if (arrival.kind === 'second') {
      newcomer = {
        kind: 'anotherDevice',
        linkId: claims.sub,
        name: claims.name,
        role,
        keyHash: hashHolderKey(newKey),
      };
      holderKey = newKey;
    } else {
      holderKey = arrival.kind === 'first' ? newKey : presentedKey!;
      const keyHash = hashHolderKey(holderKey);
      newcomer = {
        kind: 'holder',
        linkId: claims.sub,
        name: claims.name,
        role,
        state: arrival.state,
        keyHash,
      };
    }
    return { session, participantId: session.enter(newcomer), holderKey };
  }

  /**
   * Redis says nobody holds the link (`first`), yet this node has its holder in the call: Redis
   * lost it (a failover without its data, or the last second before a crash). The node's memory
   * decides: the holder's own key resumes its seat, any other device waits as a second one for the
   * clinician, and Redis is told the holder again. Any other answer stands as Redis gave it.
   */
  private async heldHere(
    session: CallSession,
    claims: Pick<CallTokenClaims, 'callId' | 'sub'>,
    presentedKey: string | undefined,
    outcome: LetIn,
  ): Promise<LetIn> {
    if (outcome.kind !== 'first') return outcome;
    const held = session.heldLink(claims.sub);
    if (!held) return outcome;
    await this.deps.links.restoreHolder(claims.callId, claims.sub, held.keyHash, held.state);
    const returning = presentedKey !== undefined && hashHolderKey(presentedKey) === held.keyHash;
    return returning ? { kind: 'holder', state: held.state } : { kind: 'second' };
  }

  /** The session of a live call, opened here if it is not yet; undefined for a mismatched id. */
  private open(
    claims: Pick<CallTokenClaims, 'callId' | 'practiceId' | 'consultationId'>,
  ): CallSession | undefined {
    const open = this.sessions.get(claims.callId);
    if (open)
      return open.practiceId === claims.practiceId && open.consultationId === claims.consultationId
        ? open
        : undefined;
    const session = new CallSession(
      claims.callId,
      claims.practiceId,
      claims.consultationId,
      this.deps,
      (ended) => this.forget(ended.id),
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

  /** Frees a call's media here and forgets it; whether it lives is Redis's to say. */
  forget(callId: string): void {
    this.sessions.get(callId)?.close();
    this.sessions.delete(callId);
  }

  /** Stops the sweep and forgets every call (the node is stopping; the calls live on in Redis). */
  close(): void {
    clearInterval(this.sweeper);
    for (const id of [...this.sessions.keys()]) this.forget(id);
  }

  /**
   * Keeps occupied calls alive in Redis, ends those nobody has been connected to for the idle time,
   * and closes here those that ended elsewhere. While Redis is away this does nothing (the calls
   * here go on); it resumes when it answers.
   */
  private async sweep(): Promise<void> {
    for (const session of [...this.sessions.values()]) {
      try {
        // a call over (ended on another node too) closes here: its participants are told
        const over = session.occupied
          ? !(await this.deps.links.keepAlive(session.ref))
          : await this.deps.links.endIfIdle(session.id);
        if (over) session.endHere();
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'unavailable'))
          this.deps.logger.error({ err: error, callId: session.id }, 'call sweep failed');
      }
    }
  }
}
