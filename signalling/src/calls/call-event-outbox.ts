import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyBaseLogger } from 'fastify';
import { importJWK, SignJWT, type JWK } from 'jose';
import {
  CallEvent,
  callEventsAudience,
  callNodeIssuer,
  maxCallEventsPerPost,
  registerFormats,
  type CallEventsAccepted,
} from '@gpc/contracts';
import type { CallEventSink } from './call-data';

registerFormats();
const checkEvent = TypeCompiler.Compile(CallEvent);

export interface CallEventOutboxOptions {
  /** Triage's base URL (SIGNALLING_CALL_EVENTS_URL): events go to `/internal/call-events` there. */
  triageUrl: string;
  /** This node's private Ed25519 JWK, with its `kid` (SIGNALLING_CALL_EVENTS_KEY); triage has the public half. */
  key: JWK;
  /** Names this node in its tokens (`sub`). */
  nodeId: string;
  logger: FastifyBaseLogger;
  /** Events kept while triage does not take them; past it, the oldest quality summaries go first. */
  maxQueued?: number;
  /** The first retry's delay; doubled each failure, up to `retryMaxMs`, with jitter. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long one post may take. */
  timeoutMs?: number;
}

/** How long a token this node signs lives (triage refuses more than `callEventsTokenMaxSeconds`). */
const tokenSeconds = 60;

/**
 * Posts call events to triage, which owns the call data (the call node has no database). Events
 * wait in memory, in order, and go in posts of up to 100; a post triage does not answer (down,
 * restarting, 5xx, a refused token) is sent again with backoff until it is, so nothing is lost
 * while triage is briefly away, and a retry records nothing twice (each event has its id).
 *
 * What can be lost, and when: the queue holds `maxQueued` events (10,000 by default: about two
 * hours of a hundred two-person calls' quality reports); past that the oldest quality summaries are
 * dropped first, then the oldest events, each counted in the log. The queue is in this process's
 * memory: events not yet posted when the node dies (kill -9, a lost machine) are lost; a node
 * stopped normally tries to post them for a few seconds first. A post triage refuses as invalid
 * (400) is dropped and logged: sending it again would not change the answer.
 */
export class CallEventOutbox implements CallEventSink {
  private queue: CallEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private posting: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  private token: { value: string; renewAt: number } | undefined;
  private readonly maxQueued: number;
  private readonly endpoint: string;
  /** Events dropped because the queue was full, since the node started. */
  dropped = 0;

  constructor(private readonly options: CallEventOutboxOptions) {
    this.maxQueued = options.maxQueued ?? 10_000;
    this.endpoint = `${options.triageUrl.replace(/\/$/, '')}/internal/call-events`;
  }

  /** Events not yet taken by triage. */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues an event (checked against its contract: a malformed one is a bug, logged, not sent). */
  record(event: CallEvent): void {
    if (this.closed) return;
    const type: string = event.type;
    if (!checkEvent.Check(event)) {
      const fault = checkEvent.Errors(event).First();
      this.options.logger.error({ type, path: fault?.path }, 'call event not valid: not sent');
      return;
    }
    this.queue.push(event);
    if (this.queue.length > this.maxQueued) this.dropOne();
    this.schedule(0);
  }

  /** Stops taking events and tries to post what is left, for at most `withinMs`. Idempotent. */
  async close(withinMs = 3000): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const deadline = Date.now() + withinMs;
    while (this.queue.length > 0 && Date.now() < deadline) {
      await this.postNext(Math.max(100, deadline - Date.now()));
      if (this.failures > 0) break;
    }
    if (this.queue.length > 0)
      this.options.logger.warn({ lost: this.queue.length }, 'call events not posted before stopping');
    this.queue = [];
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.timer || this.posting) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.posting = this.drain().finally(() => (this.posting = undefined));
    }, delayMs);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      await this.postNext(this.options.timeoutMs ?? 5000);
      if (this.failures > 0) {
        const base = this.options.retryBaseMs ?? 500;
        const ceiling = Math.min(this.options.retryMaxMs ?? 30_000, base * 2 ** (this.failures - 1));
        // jitter: call nodes coming back together do not all post at once
        return void setImmediate(() => this.schedule(ceiling / 2 + Math.random() * (ceiling / 2)));
      }
    }
  }

  /** Posts the oldest events; they leave the queue once triage has answered for them. */
  private async postNext(timeoutMs: number): Promise<void> {
    const batch = this.queue.slice(0, maxCallEventsPerPost);
    const outcome = await this.post(batch, timeoutMs);
    if (outcome === 'retry') {
      this.failures += 1;
      return;
    }
    this.failures = 0;
    const sent = new Set(batch);
    this.queue = this.queue.filter((event) => !sent.has(event));
  }

  private async post(batch: CallEvent[], timeoutMs: number): Promise<'done' | 'retry'> {
    try {
      const response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.bearer()}` },
        body: JSON.stringify({ events: batch }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.ok) {
        const counts = (await response.json()) as CallEventsAccepted;
        if (counts.notRecorded > 0)
          this.options.logger.warn(
            { notRecorded: counts.notRecorded },
            'triage did not record some call events',
          );
        return 'done';
      }
      await response.body?.cancel();
      if (response.status === 400) {
        this.options.logger.error(
          { events: batch.length },
          'triage refused call events as not valid: dropped',
        );
        return 'done';
      }
      // 401 too: a key not yet published to triage is a deployment step away from working
      if (this.failures === 0)
        this.options.logger.warn({ status: response.status }, 'call events not taken; retrying');
      return 'retry';
    } catch (error) {
      if (this.failures === 0)
        this.options.logger.warn(
          { err: (error as Error).message },
          'triage not reached with call events; retrying',
        );
      return 'retry';
    }
  }

  /** A short token of this node's key for triage's call-events endpoint, made again before it runs out. */
  private async bearer(): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    const key = await importJWK(this.options.key, 'EdDSA');
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: this.options.key.kid! })
      .setIssuer(callNodeIssuer)
      .setAudience(callEventsAudience)
      .setSubject(this.options.nodeId)
      .setIssuedAt()
      .setExpirationTime(`${tokenSeconds}s`)
      .sign(key);
    this.token = { value, renewAt: Date.now() + (tokenSeconds / 2) * 1000 };
    return value;
  }

  /** The queue is full: the oldest quality summary goes, or failing one, the oldest event. */
  private dropOne(): void {
    const quality = this.queue.findIndex((event) => event.type === 'quality');
    this.queue.splice(quality >= 0 ? quality : 0, 1);
    this.dropped += 1;
    if (this.dropped === 1 || this.dropped % 1000 === 0)
      this.options.logger.warn({ dropped: this.dropped }, 'call event queue full: oldest events dropped');
  }
}
