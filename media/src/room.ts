import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { ProducerSource } from '@gpc/contracts';
import { Adaptation, type QualityChange, type UplinkChange } from './adaptation';
import { mediaCodecs } from './codecs';
import { InvalidMediaParametersError, MediaNotFoundError } from './errors';
import type { MediaWorker } from './worker-pool';

export type TransportDirection = 'send' | 'recv';

/**
 * Runs a mediasoup operation on parameters a client sent. mediasoup checks them with TypeError (in
 * Node and in the worker, whose type errors reach Node as TypeError) and refuses codecs the router
 * lacks with UnsupportedError: both are the client's fault, so they become InvalidMediaParametersError.
 */
async function withClientParameters<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof TypeError || error instanceof mediasoup.types.UnsupportedError)
      throw new InvalidMediaParametersError(error.message, { cause: error });
    throw error;
  }
}

/**
 * The stream a producer's parameters would take again on its transport, as the worker's RTP listener
 * counts them (SSRCs and RTX SSRCs in one table, MIDs, and RIDs when the new producer has no MID),
 * within the new parameters too. The worker refuses such a producer with a plain Error, which would
 * read as a fault: Peer refuses it first. Throws TypeError on parameters of the wrong shape.
 */
function streamTakenAgain(existing: types.RtpParameters[], next: types.RtpParameters): string | undefined {
  const ssrcs = new Set<number>();
  const mids = new Set<string>();
  const rids = new Set<string>();
  const take = (parameters: types.RtpParameters, checking: boolean): string | undefined => {
    for (const encoding of parameters.encodings ?? []) {
      for (const ssrc of [encoding.ssrc, encoding.rtx?.ssrc]) {
        if (!ssrc) continue;
        if (checking && ssrcs.has(ssrc)) return `SSRC ${ssrc}`;
        ssrcs.add(ssrc);
      }
    }
    if (parameters.mid) {
      if (checking && mids.has(parameters.mid)) return `MID ${parameters.mid}`;
      mids.add(parameters.mid);
    }
    for (const { rid } of parameters.encodings ?? []) {
      if (!rid) continue;
      if (checking && rids.has(rid) && !parameters.mid) return `RID ${rid}`;
      rids.add(rid);
    }
    return undefined;
  };
  for (const parameters of existing) take(parameters, false);
  return take(next, true);
}

/**
 * One participant's media in a room: its transports, producers and consumers. Closing a peer
 * closes its transports, which closes their producers and consumers (mediasoup cascades).
 */
export class Peer {
  readonly transports = new Map<string, types.WebRtcTransport>();
  readonly producers = new Map<string, types.Producer>();
  readonly consumers = new Map<string, types.Consumer>();
  /** Transports whose connect was asked for: the worker refuses a second with a plain Error. */
  private readonly connecting = new Set<string>();
  private closedFlag = false;
  /** The participant chose audio only: their video consumers stay paused. */
  private audioOnlyFlag = false;

  constructor(
    readonly id: string,
    private readonly room: Room,
  ) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  async createTransport(direction: TransportDirection): Promise<types.WebRtcTransport> {
    const transport = await this.room.router.createWebRtcTransport({
      webRtcServer: this.room.worker.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
      appData: { direction, peerId: this.id },
    });
    if (this.closedFlag) {
      transport.close();
      throw new MediaNotFoundError('peer closed');
    }
    this.transports.set(transport.id, transport);
    transport.observer.once('close', () => {
      this.transports.delete(transport.id);
      this.connecting.delete(transport.id);
    });
    return transport;
  }

  transport(transportId: string, direction?: TransportDirection): types.WebRtcTransport {
    const transport = this.transports.get(transportId);
    if (!transport || (direction && transport.appData.direction !== direction)) {
      throw new MediaNotFoundError(`no ${direction ?? ''} transport ${transportId}`);
    }
    return transport;
  }

  async connectTransport(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const transport = this.transport(transportId);
    if (this.connecting.has(transportId))
      throw new InvalidMediaParametersError('transport already connected');
    this.connecting.add(transportId);
    try {
      await withClientParameters(() => transport.connect({ dtlsParameters }));
    } catch (error) {
      this.connecting.delete(transportId);
      throw error;
    }
  }

  /** `source` tells a shared screen from the camera (the pages show a screen large); by kind when absent. */
  async produce(
    transportId: string,
    kind: types.MediaKind,
    rtpParameters: types.RtpParameters,
    source: ProducerSource = kind === 'audio' ? 'microphone' : 'camera',
  ): Promise<types.Producer> {
    const transport = this.transport(transportId, 'send');
    const producer = await withClientParameters(() => {
      const onTransport = [...this.producers.values()].filter(
        (other) => other.appData.transportId === transportId,
      );
      const again = streamTakenAgain(
        onTransport.map((other) => other.rtpParameters),
        rtpParameters,
      );
      if (again) throw new InvalidMediaParametersError(`${again} already taken on this transport`);
      return transport.produce({ kind, rtpParameters, appData: { peerId: this.id, transportId, source } });
    });
    this.producers.set(producer.id, producer);
    producer.observer.once('close', () => this.producers.delete(producer.id));
    this.room.emit('newProducer', this, producer);
    return producer;
  }

  producer(producerId: string): types.Producer {
    const producer = this.producers.get(producerId);
    if (!producer) throw new MediaNotFoundError(`no producer ${producerId}`);
    return producer;
  }

  /** Consumers start paused: the client resumes them once it is ready, so no first frames are lost. */
  async consume(
    transportId: string,
    producerId: string,
    rtpCapabilities: types.RtpCapabilities,
  ): Promise<types.Consumer> {
    const transport = this.transport(transportId, 'recv');
    const source = this.room.findProducer(producerId);
    if (!source || source.peer === this)
      throw new MediaNotFoundError(`no producer ${producerId} in this room`);
    if (!this.room.router.canConsume({ producerId, rtpCapabilities })) {
      throw new MediaNotFoundError(`cannot consume ${producerId} with these capabilities`);
    }
    const consumer = await withClientParameters(() =>
      transport.consume({
        producerId,
        rtpCapabilities,
        paused: true,
        // the first picture from the smallest simulcast layer: its key frame is the quickest to send
        // and decode; adaptation raises the ceiling to what the path carries at its next look
        preferredLayers: { spatialLayer: 0, temporalLayer: 2 },
        appData: { peerId: this.id },
      }),
    );
    this.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => this.consumers.delete(consumer.id));
    return consumer;
  }

  consumer(consumerId: string): types.Consumer {
    const consumer = this.consumers.get(consumerId);
    if (!consumer) throw new MediaNotFoundError(`no consumer ${consumerId}`);
    return consumer;
  }

  /** The client is ready for the media: a fresh keyframe shows the first picture at once, not at the next one. */
  async resumeConsumer(consumerId: string): Promise<void> {
    const consumer = this.consumer(consumerId);
    if (consumer.kind === 'video' && this.audioOnlyFlag) return;
    await consumer.resume();
    if (consumer.kind === 'video') await consumer.requestKeyFrame();
  }

  get audioOnly(): boolean {
    return this.audioOnlyFlag;
  }

  /**
   * Audio only (on a poor connection, at the participant's choice): every video consumer of theirs
   * is paused on the server, so none of it is sent; off resumes them from a fresh key frame.
   */
  async setAudioOnly(on: boolean): Promise<void> {
    this.audioOnlyFlag = on;
    for (const consumer of this.consumers.values()) {
      if (consumer.kind !== 'video' || consumer.closed) continue;
      if (on) await consumer.pause();
      else {
        await consumer.resume();
        await consumer.requestKeyFrame();
      }
    }
  }

  /** Idempotent; cascades to transports, producers and consumers. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
    this.room.forgetPeer(this);
  }
}

interface RoomEvents {
  newProducer: [peer: Peer, producer: types.Producer];
  /** A participant's connection became poor or good again (see adaptation.ts). */
  connectionQuality: [change: QualityChange];
  /** The path from a participant became congested (their page should stop its camera's encodings) or clear. */
  uplink: [change: UplinkChange];
  /** The room's router closed underneath it (its worker died): clients must rejoin. */
  lost: [];
  closed: [];
}

/** One call's media: a Router on one worker, and the peers in it. */
export class Room extends EventEmitter<RoomEvents> {
  private readonly peers = new Map<string, Peer>();
  private closedFlag = false;
  /** Fits each receiver's video layers to its bandwidth, audio first, and judges its connection. */
  readonly adaptation: Adaptation;

  private constructor(
    readonly id: string,
    readonly worker: MediaWorker,
    readonly router: types.Router,
  ) {
    super();
    this.adaptation = new Adaptation(
      router,
      (change) => this.emit('connectionQuality', change),
      undefined,
      (peerId) => this.peers.get(peerId)?.audioOnly ?? false,
      (change) => this.emit('uplink', change),
    );
    router.observer.once('close', () => {
      if (!this.closedFlag) {
        this.emit('lost');
        this.close();
      }
    });
  }

  static async create(id: string, worker: MediaWorker): Promise<Room> {
    const router = await worker.worker.createRouter({ mediaCodecs, appData: { roomId: id } });
    return new Room(id, worker, router);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** A participant's peer; an existing one of the same id is closed first (a reconnect starts afresh). */
  addPeer(peerId: string): Peer {
    if (this.closedFlag) throw new MediaNotFoundError('room closed');
    this.peers.get(peerId)?.close();
    const peer = new Peer(peerId, this);
    this.peers.set(peerId, peer);
    return peer;
  }

  peer(peerId: string): Peer | undefined {
    return this.peers.get(peerId);
  }

  /** @internal called by Peer.close */
  forgetPeer(peer: Peer): void {
    if (this.peers.get(peer.id) === peer) this.peers.delete(peer.id);
  }

  findProducer(producerId: string): { peer: Peer; producer: types.Producer } | undefined {
    for (const peer of this.peers.values()) {
      const producer = peer.producers.get(producerId);
      if (producer) return { peer, producer };
    }
    return undefined;
  }

  /** Its peers and their consumers, for the call node's metrics. */
  counts(): { peers: number; consumers: number } {
    let consumers = 0;
    for (const peer of this.peers.values()) consumers += peer.consumers.size;
    return { peers: this.peers.size, consumers };
  }

  /** Every producer in the room but the given peer's own. */
  producersFor(peer: Peer): { peer: Peer; producer: types.Producer }[] {
    return [...this.peers.values()]
      .filter((other) => other !== peer)
      .flatMap((other) => [...other.producers.values()].map((producer) => ({ peer: other, producer })));
  }

  /** Idempotent; closes every peer, then the router. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const peer of [...this.peers.values()]) peer.close();
    this.adaptation.close();
    if (!this.router.closed) this.router.close();
    this.emit('closed');
  }
}
