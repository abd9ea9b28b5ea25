/**
 * Media into a call node's WebRtcTransports from Node, where there is no WebRTC stack: the call node
 * only takes media over ICE + DTLS-SRTP, and mediasoup's WebRtcTransports are ICE-lite (they answer
 * connectivity checks, never send them). So the bench makes a WebRtcTransport of its own in a local
 * mediasoup worker (which does the DTLS and SRTP), and this relay plays the ICE-controlling agent
 * towards both: it sends each a STUN Binding Request with USE-CANDIDATE (each then takes the relay's
 * socket as its peer), then copies every DTLS, RTP and RTCP datagram from one to the other. It counts
 * the media (RTP of the payload types it is given; not RTCP, not retransmissions, not mediasoup's
 * bandwidth probes) it sends to the call node on `send` pairs and receives from it on `recv` pairs.
 * It runs on a thread of its own (`ice-relay-thread.ts`).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';

export interface IceEnd {
  ip: string;
  port: number;
  usernameFragment: string;
  password: string;
}

export interface RelayPair {
  /** `send`: media goes from the bench to the call node; `recv`: from the call node to the bench. */
  direction: 'send' | 'recv';
  node: IceEnd;
  bench: IceEnd;
}

export interface RelayCounts {
  /** Media RTP packets copied to call nodes (send pairs). */
  toNodes: number;
  /** Media RTP packets that came from call nodes (recv pairs). */
  fromNodes: number;
}

const magicCookie = 0x2112a442;

function attribute(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(value.length, 2);
  const padding = Buffer.alloc((4 - (value.length % 4)) % 4);
  return Buffer.concat([header, value, padding]);
}

/**
 * A STUN Binding Request as a controlling ICE agent nominating the pair (RFC 8445): USERNAME
 * `<their ufrag>:<ours>`, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY under their
 * password and FINGERPRINT (mediasoup refuses a request without it).
 */
export function bindingRequest(to: IceEnd, ourUfrag: string): Buffer {
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(0x6e7f00ff, 0);
  const attributes = Buffer.concat([
    attribute(0x0006, Buffer.from(`${to.usernameFragment}:${ourUfrag}`)),
    attribute(0x0024, priority),
    attribute(0x802a, randomBytes(8)),
    attribute(0x0025, Buffer.alloc(0)),
  ]);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(0x0001, 0);
  header.writeUInt32BE(magicCookie, 4);
  randomBytes(12).copy(header, 8);
  // MESSAGE-INTEGRITY covers the message with the length counting itself (24 bytes)
  header.writeUInt16BE(attributes.length + 24, 2);
  const integrity = createHmac('sha1', to.password)
    .update(Buffer.concat([header, attributes]))
    .digest();
  const withIntegrity = Buffer.concat([attributes, attribute(0x0008, integrity)]);
  // FINGERPRINT covers everything before it with the length counting itself (8 bytes)
  header.writeUInt16BE(withIntegrity.length + 8, 2);
  const fingerprint = Buffer.alloc(4);
  fingerprint.writeUInt32BE((crc32(Buffer.concat([header, withIntegrity])) ^ 0x5354554e) >>> 0, 0);
  return Buffer.concat([header, withIntegrity, attribute(0x8028, fingerprint)]);
}

/** The relay's thread: `add` pairs, read `counts`, `close`. */
export class IceRelay {
  private readonly worker: Worker;
  private next = 0;
  private readonly pending = new Map<number, (value: unknown) => void>();

  /** `mediaPayloadTypes`: the RTP payload types counted as media (audio and video, not RTX). */
  constructor(mediaPayloadTypes: number[]) {
    this.worker = new Worker(new URL('./ice-relay-thread.ts', import.meta.url), {
      workerData: { mediaPayloadTypes },
    });
    this.worker.on('message', ({ id, value }: { id: number; value: unknown }) => {
      this.pending.get(id)?.(value);
      this.pending.delete(id);
    });
  }

  private ask<T>(message: Record<string, unknown>): Promise<T> {
    const id = this.next++;
    const answer = new Promise<T>((resolve) => this.pending.set(id, resolve as (value: unknown) => void));
    this.worker.postMessage({ ...message, id });
    return answer;
  }

  /** Opens the pair's two sockets and starts its connectivity checks (repeated every 2 s, as consent). */
  add(pair: RelayPair): Promise<void> {
    return this.ask({ type: 'add', pair });
  }

  counts(): Promise<RelayCounts> {
    return this.ask({ type: 'counts' });
  }

  async close(): Promise<void> {
    this.worker.postMessage({ type: 'close', id: -1 });
    await once(this.worker, 'exit');
  }
}
