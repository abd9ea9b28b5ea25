import type { FastifyBaseLogger } from 'fastify';
import type { types } from 'mediasoup';
import { randomBytes } from 'node:crypto';
import {
  AppError,
  type JoinResult,
  type Participant,
  type ParticipantRole,
  type ParticipantState,
  type ProducerInfo,
  type ProducerSource,
  type QualityReport,
  type RemovalReason,
} from '@gpc/contracts';
import { Room, type MediaWorkerPool, type Peer } from '@gpc/media';
import type { CallLinks, CallRef } from './call-links';
import type { CallData } from './call-data';
import type { CallServer, CallSocket } from './call-socket';

export interface CallParticipant {
  readonly id: string;
  readonly name: string;
  readonly role: ParticipantRole;
  state: ParticipantState;
  /** The socket currently speaking for this participant (its holder); a reconnect replaces it. */
  socketId: string | undefined;
  /** The link (its token's `sub`) a patient or guest came by; undefined for the host. */
  readonly linkId: string | undefined;
  /**
   * A second device on a link another device holds: it waits, and the clinician is asked whether
   * it takes the link over (Admit) or is refused (Remove). `keyHash` is the key it was given.
   */
  anotherDevice: { keyHash: string } | undefined;
  /**
   * For a link's holder, the SHA-256 of the key it presents on a rejoin, kept here as well as in
   * Redis: a Redis that lost it (a failover without its data) must not hand the link, and the
   * admitted seat, to whichever device opens the link next.
   */
  holderKeyHash?: string;
  /**
   * Its connection went silent (socket.io's ping timeout, a lost transport): its seat and media
   * are kept until this timer (the reconnect grace period) runs out or it comes back.
   */
  away?: NodeJS.Timeout;
}

/**
 * Who a token lets into a call, as Redis sees them: the host; a link's holder (its first opener,
 * or back with its key), admitted or waiting as Redis says; or a second device on a held link.
 */
export type Newcomer =
  | { kind: 'host'; id: string; name: string }
  | {
      kind: 'holder';
      linkId: string;
      name: string;
      role: Exclude<ParticipantRole, 'clinician'>;
      state: ParticipantState;
      /** The SHA-256 of the key it holds the link with. */
      keyHash: string;
    }
  | {
      kind: 'anotherDevice';
      linkId: string;
      name: string;
      role: Exclude<ParticipantRole, 'clinician'>;
      keyHash: string;
    };

/** Second devices on one link that may wait at once: more are refused until the clinician decides. */
const maxOtherDevicesPerLink = 3;

/** A participant as the protocol shows it to the others. */
function asSeen(participant: CallParticipant): Participant {
  return {
    participantId: participant.id,
    name: participant.name,
    role: participant.role,
    state: participant.state,
    ...(participant.anotherDevice ? { anotherDevice: true } : {}),
    ...(participant.away ? { connection: 'reconnecting' as const } : {}),
  };
}

/** What a producer carries, as its appData says (set by Peer.produce). */
const sourceOf = (producer: types.Producer): ProducerSource =>
  (producer.appData.source as ProducerSource | undefined) ??
  (producer.kind === 'audio' ? 'microphone' : 'camera');

/** A participant's producer as the others are offered it. */
const offered = (producer: types.Producer, participantId: string): ProducerInfo => ({
  producerId: producer.id,
  participantId,
  kind: producer.kind,
  source: sourceOf(producer),
});

/** Who asks: a participant, through the socket the request came on. */
export interface CallSender {
  readonly participantId: string;
  readonly socketId: string;
}

export interface CallSessionDeps {
  io: CallServer;
  media: MediaWorkerPool;
  logger: FastifyBaseLogger;
  /** Link holders, admissions and the call's end, shared by every call node through Redis. */
  links: CallLinks;
  /** Who joined and left when, and the pages' quality reports: call data, posted to triage. */
  callData: CallData;
  /**
   * How long a participant whose connection went silent keeps their seat and media (shown to the
   * others as reconnecting) before they are taken out as if they had left (SIGNALLING_RECONNECT_GRACE_SECONDS).
   */
  reconnectGraceMs: number;
}

/** The clinician ended the call: it is over on this node (the registry forgets it). */
export type CallEnded = (session: CallSession) => void;

/**
 * One video call for one consultation, in one practice: who is in it (waiting or admitted, and
 * through which socket), who was removed, and its media room while anyone is connected. Every
 * change to them, and every message to the call's sockets, goes through here. Whatever must hold
 * on every node (a link's holder, its admission, a removal, the call's end) is written to Redis
 * (`CallLinks`) before it takes effect here.
 */
export class CallSession {
  private readonly members = new Map<string, CallParticipant>();
  /** Participants the clinician removed: their links no longer let them in. */
  private readonly removed = new Set<string>();
  private mediaRoom: Room | undefined;
  private mediaRoomOpening: Promise<Room> | undefined;
  /** socket.io rooms: every connected participant, and the admitted ones (media and chat). */
  private readonly everyone: string;
  private readonly admittedOnly: string;

  constructor(
    readonly id: string,
    readonly practiceId: string,
    readonly consultationId: string,
    private readonly deps: CallSessionDeps,
    private readonly onEnded: CallEnded = () => undefined,
  ) {
    this.everyone = `call:${id}`;
    this.admittedOnly = `call:${id}:admitted`;
  }

  /** Everyone let in at the handshake, by participant id; changed only through the session. */
  get participants(): ReadonlyMap<string, Readonly<CallParticipant>> {
    return this.members;
  }

  /** The call's media while anyone is connected; the next join after that opens a new one. */
  get room(): Room | undefined {
    return this.mediaRoom;
  }

  /** The call as Redis knows it. */
  get ref(): CallRef {
    return { callId: this.id, practiceId: this.practiceId, consultationId: this.consultationId };
  }

  /** True while any participant is connected, or reconnecting within the grace period. */
  get occupied(): boolean {
    return [...this.members.values()].some((member) => member.socketId !== undefined || member.away);
  }

  /**
   * At the handshake, the participant the newcomer speaks for: the host is in at once; a link's
   * holder is the participant it was (admitted or waiting, as Redis keeps it); a second device is
   * a participant of its own, waiting for the clinician. Removed links stay out.
   */
  enter(newcomer: Newcomer): string {
    if (newcomer.kind === 'host') {
      if (!this.members.has(newcomer.id))
        this.members.set(newcomer.id, {
          id: newcomer.id,
          name: newcomer.name,
          role: 'clinician',
          state: 'admitted',
          socketId: undefined,
          linkId: undefined,
          anotherDevice: undefined,
        });
      return newcomer.id;
    }
    if (this.removed.has(newcomer.linkId)) throw new AppError('forbidden', 'removed from this call');
    if (newcomer.kind === 'holder') {
      const holder = this.holderOf(newcomer.linkId);
      if (holder) {
        if (newcomer.state === 'admitted') holder.state = 'admitted';
        return holder.id;
      }
      this.members.set(newcomer.linkId, {
        id: newcomer.linkId,
        name: newcomer.name,
        role: newcomer.role,
        state: newcomer.state,
        socketId: undefined,
        linkId: newcomer.linkId,
        anotherDevice: undefined,
        holderKeyHash: newcomer.keyHash,
      });
      return newcomer.linkId;
    }
    const waiting = [...this.members.values()].filter(
      (member) => member.linkId === newcomer.linkId && member.anotherDevice,
    );
    if (waiting.length >= maxOtherDevicesPerLink)
      throw new AppError('tooManyRequests', 'This link is already waiting on other devices');
    const id = `${newcomer.linkId}~${randomBytes(6).toString('hex')}`;
    this.members.set(id, {
      id,
      name: newcomer.name,
      role: newcomer.role,
      state: 'waiting',
      socketId: undefined,
      linkId: newcomer.linkId,
      anotherDevice: { keyHash: newcomer.keyHash },
    });
    return id;
  }

  /** The sender's socket becomes the participant's holder, with a fresh peer in the media room. */
  async join(sender: CallSender): Promise<Omit<JoinResult, 'iceServers'>> {
    const participant = this.members.get(sender.participantId);
    if (!participant) throw new AppError('forbidden', 'not in this call');
    const previous = participant.socketId;
    participant.socketId = sender.socketId;
    // back within the grace period: the seat kept for it is its again (its media starts afresh)
    clearTimeout(participant.away);
    participant.away = undefined;
    // a reconnect replaces the participant's old connection and starts its media afresh
    if (previous && previous !== sender.socketId) this.socket(previous)?.disconnect(true);
    const room = await this.openRoom();
    room.addPeer(participant.id);
    await this.socket(sender.socketId)?.join(this.everyone);
    if (participant.state === 'admitted') await this.socket(sender.socketId)?.join(this.admittedOnly);
    this.broadcastParticipants();
    if (participant.anotherDevice) this.askClinicians(participant);
    // unless the socket went while the room opened: its attendance would never end
    if (participant.socketId === sender.socketId) {
      this.deps.callData.joined(this.ref, sender.socketId, asSeen(participant));
      if (participant.state === 'admitted') this.deps.callData.admitted(sender.socketId);
    }
    return {
      callId: this.id,
      self: asSeen(participant),
      participants: this.visibleTo(participant),
      routerRtpCapabilities: room.router.rtpCapabilities,
    };
  }

  /**
   * The clinician lets a waiting participant in, once Redis has it (so a rejoin resumes admitted on
   * any node). A second device admitted takes the link over: its key becomes the holder's, and the
   * device that held the link is told and disconnected.
   */
  async admit(sender: CallSender, participantId: string): Promise<void> {
    this.clinician(sender);
    const target = this.members.get(participantId);
    if (!target?.socketId) throw new AppError('notFound', 'no such participant waiting');
    if (target.state === 'admitted') return;
    if (target.linkId) await this.deps.links.admit(this.id, target.linkId, target.anotherDevice?.keyHash);
    // the session may have changed while Redis answered
    if (this.members.get(participantId) !== target || !target.socketId) return;
    if (target.anotherDevice && target.linkId) {
      const previous = this.holderOf(target.linkId);
      if (previous) this.dismiss(previous, 'replaced');
      target.holderKeyHash = target.anotherDevice.keyHash;
      target.anotherDevice = undefined;
    }
    target.state = 'admitted';
    this.deps.callData.admitted(target.socketId);
    void this.socket(target.socketId)?.join(this.admittedOnly);
    this.deps.io.to(target.socketId).emit('admitted');
    // media made in the waiting room goes to the others now, and theirs to the newcomer
    this.announceProducersOf(target);
    this.offerProducersTo({ participantId: target.id, socketId: target.socketId });
    this.broadcastParticipants();
  }

  /**
   * The clinician removes a participant. A second device is refused (the link stays its holder's);
   * anyone else is removed for good: their media closes and their link no longer lets anyone in,
   * on any node (the local refusal holds even if Redis cannot be told, which the ack then says).
   */
  async remove(sender: CallSender, participantId: string): Promise<void> {
    this.clinician(sender);
    const target = this.members.get(participantId);
    if (!target || target.role === 'clinician') throw new AppError('notFound', 'no such participant');
    if (target.anotherDevice) return this.dismiss(target, 'refused');
    const linkId = target.linkId ?? target.id;
    this.removed.add(linkId);
    for (const member of [...this.members.values()])
      if (member.linkId === linkId && member !== target) this.dismiss(member, 'refused');
    this.dismiss(target, 'removed');
    await this.deps.links.remove(this.id, linkId);
  }

  /**
   * The clinician ends the call for everyone: Redis first (so no token opens it again, on any
   * node), then every participant here is told and disconnected, and the media closes.
   */
  async end(sender: CallSender): Promise<void> {
    this.clinician(sender);
    await this.deps.links.end(this.id);
    // after the clinician's acknowledgement has gone: their socket closes with everyone's
    setImmediate(() => this.endHere());
  }

  /** The call is over (ended by the clinician, or idle): everyone here is told and disconnected. */
  endHere(): void {
    for (const member of [...this.members.values()]) this.dismiss(member, 'ended', false);
    this.deps.callData.ended(this.ref);
    this.close();
    this.onEnded(this);
  }

  /** The participant hangs up: its media closes, its admission stays for when it comes back. */
  leave(sender: CallSender): void {
    this.holder(sender);
    this.deps.callData.left(sender.socketId, 'left');
    this.release(sender);
  }

  /**
   * A dropped connection keeps the participant's admission for its reconnect. A connection that
   * went silent (`lost`: no answer to socket.io's pings, or its transport closed) also keeps its
   * seat and media for the grace period, shown as reconnecting: a phone that put the browser in the
   * background for a text message comes back to the call. A socket closed on purpose frees them now.
   */
  disconnected(sender: CallSender, lost = false): void {
    this.deps.callData.left(sender.socketId, 'disconnected');
    const participant = this.members.get(sender.participantId);
    if (lost && this.deps.reconnectGraceMs > 0 && participant && !participant.anotherDevice)
      this.holdSeat(sender, participant);
    else this.release(sender);
  }

  /** The sender's media, once the sender is admitted and has joined: what it receives. */
  admittedPeer(sender: CallSender): Peer {
    this.admitted(sender);
    return this.joinedPeer(sender);
  }

  /**
   * The sender's media once it has joined, admitted or still waiting: its transports and producers
   * are made in the waiting room, so admission only adds consumers. Nobody receives a waiting
   * participant's producers until the clinician admits them. A second device on a held link gets
   * nothing until the clinician lets it take the link over.
   */
  joinedPeer(sender: CallSender): Peer {
    if (this.holder(sender).anotherDevice) throw new AppError('forbidden', 'not admitted yet');
    const peer = this.mediaRoom?.peer(sender.participantId);
    if (!peer || peer.closed) throw new AppError('conflict', 'join the call first');
    return peer;
  }

  /** The sender's new producer, announced to the other admitted participants until it closes. */
  async produce(
    sender: CallSender,
    transportId: string,
    kind: types.MediaKind,
    rtpParameters: types.RtpParameters,
    source?: ProducerSource,
  ): Promise<types.Producer> {
    const peer = this.joinedPeer(sender);
    if (source === 'screen') this.screenMayBeShared(sender, peer, kind);
    const producer = await peer.produce(transportId, kind, rtpParameters, source);
    // a waiting participant's producer is announced when they are admitted
    if (this.members.get(sender.participantId)?.state === 'admitted')
      this.deps.io
        .to(this.admittedOnly)
        .except(sender.socketId)
        .emit('producer:new', offered(producer, sender.participantId));
    producer.observer.once('close', () =>
      this.deps.io.to(this.admittedOnly).emit('producer:closed', { producerId: producer.id }),
    );
    return producer;
  }

  /**
   * Offers the sender every admitted participant's producer but its own, once the sender is
   * admitted and has a transport to receive them on (at admission, or when it makes one).
   */
  offerProducersTo(sender: CallSender): void {
    const peer = this.mediaRoom?.peer(sender.participantId);
    const socket = this.socket(sender.socketId);
    if (!peer || !socket || this.members.get(sender.participantId)?.state !== 'admitted') return;
    if (![...peer.transports.values()].some((transport) => transport.appData.direction === 'recv')) return;
    for (const { peer: owner, producer } of this.mediaRoom?.producersFor(peer) ?? []) {
      if (this.members.get(owner.id)?.state !== 'admitted') continue;
      socket.emit('producer:new', offered(producer, owner.id));
    }
  }

  /** Tells the other admitted participants of the producers a newly admitted one made while waiting. */
  private announceProducersOf(participant: CallParticipant): void {
    const peer = this.mediaRoom?.peer(participant.id);
    if (!peer || !participant.socketId) return;
    for (const producer of peer.producers.values())
      this.deps.io
        .to(this.admittedOnly)
        .except(participant.socketId)
        .emit('producer:new', offered(producer, participant.id));
  }

  /**
   * A screen is shared by the clinician (a leaflet or an image shown to the patient), as video, one
   * at a time: a patient's or guest's page offers no sharing, so theirs is refused.
   */
  private screenMayBeShared(sender: CallSender, peer: Peer, kind: types.MediaKind): void {
    this.clinician(sender);
    if (kind !== 'video') throw new AppError('badRequest', 'a shared screen is video');
    if ([...peer.producers.values()].some((producer) => sourceOf(producer) === 'screen'))
      throw new AppError('conflict', 'a screen is already shared');
  }

  /** The sender stops one of its producers (its screen share ended); the others are told it closed. */
  closeProducer(sender: CallSender, producerId: string): void {
    this.joinedPeer(sender).producer(producerId).close();
  }

  /** The sender's page reports its call quality (rate-limited by `CallData`), once it has joined. */
  reportQuality(sender: CallSender, report: QualityReport): void {
    this.holder(sender);
    this.deps.callData.quality(sender.socketId, report);
  }

  chat(sender: CallSender, text: string): void {
    const participant = this.admitted(sender);
    this.deps.io.to(this.admittedOnly).emit('chat:message', {
      participantId: participant.id,
      name: participant.name,
      text,
      at: new Date().toISOString(),
    });
  }

  /** Frees the call's media; its sockets are the server's to close. Idempotent. */
  close(): void {
    for (const member of this.members.values()) {
      clearTimeout(member.away);
      member.away = undefined;
    }
    this.mediaRoom?.close();
    this.mediaRoom = undefined;
  }

  /** The participant holding a link here: not a second device. */
  /** The link's holder as this node knows it (its key's hash and whether it was admitted), if any. */
  heldLink(linkId: string): { keyHash: string; state: ParticipantState } | undefined {
    const holder = this.holderOf(linkId);
    return holder?.holderKeyHash ? { keyHash: holder.holderKeyHash, state: holder.state } : undefined;
  }

  private holderOf(linkId: string): CallParticipant | undefined {
    return [...this.members.values()].find((member) => member.linkId === linkId && !member.anotherDevice);
  }

  /** Tells a participant why they are out, closes their socket and media, and forgets them here. */
  private dismiss(target: CallParticipant, reason: RemovalReason, broadcast = true): void {
    clearTimeout(target.away);
    this.members.delete(target.id);
    this.mediaRoom?.peer(target.id)?.close();
    if (target.socketId) {
      this.deps.callData.left(target.socketId, reason);
      this.deps.io.to(target.socketId).emit('removed', { reason });
      this.socket(target.socketId)?.disconnect(true);
    }
    if (broadcast) this.broadcastParticipants();
  }

  /** Asks each clinician here about a second device on a link: Admit (it takes over) or Remove. */
  private askClinicians(device: CallParticipant): void {
    for (const member of this.members.values()) {
      if (member.role === 'clinician' && member.socketId)
        this.deps.io.to(member.socketId).emit('link:opened-elsewhere', {
          participantId: device.id,
          name: device.name,
          role: device.role,
        });
    }
  }

  /** The participant the sender speaks for, if the sender is still its holder. */
  private holder(sender: CallSender): CallParticipant {
    const participant = this.members.get(sender.participantId);
    if (!participant || participant.socketId !== sender.socketId)
      throw new AppError('forbidden', 'not in this call');
    return participant;
  }

  private admitted(sender: CallSender): CallParticipant {
    const participant = this.holder(sender);
    if (participant.state !== 'admitted') throw new AppError('forbidden', 'not admitted yet');
    return participant;
  }

  private clinician(sender: CallSender): CallParticipant {
    const participant = this.holder(sender);
    if (participant.role !== 'clinician') throw new AppError('forbidden', 'only the clinician may do this');
    return participant;
  }

  /** The media room, opened on the least-loaded worker by the first join that needs it. */
  private async openRoom(): Promise<Room> {
    if (this.mediaRoom && !this.mediaRoom.closed) return this.mediaRoom;
    this.mediaRoomOpening ??= (async () => {
      // a worker that just died may be the only one: its replacement takes the room
      const room = await Room.create(this.id, await this.deps.media.liveWorker());
      // the participant whose path has stayed poor (or recovered) is told: their page offers audio only
      room.on('connectionQuality', ({ peerId, quality, availableKbps }) => {
        const socketId = this.members.get(peerId)?.socketId;
        if (socketId) this.deps.io.to(socketId).emit('connection:quality', { quality, availableKbps });
      });
      // and the participant whose uplink is losing packets: their page stops its camera's encodings
      room.on('uplink', ({ peerId, congested }) => {
        const socketId = this.members.get(peerId)?.socketId;
        if (socketId)
          this.deps.io.to(socketId).emit('connection:uplink', { state: congested ? 'congested' : 'clear' });
      });
      room.once('lost', () => {
        this.mediaRoom = undefined;
        this.deps.logger.warn({ callId: this.id }, 'call media lost; asking clients to rejoin');
        this.deps.io.to(this.everyone).emit('call:rejoin', { reason: 'The video service restarted' });
      });
      this.mediaRoom = room;
      return room;
    })().finally(() => (this.mediaRoomOpening = undefined));
    return this.mediaRoomOpening;
  }

  /**
   * The sender's connection went silent: its socket leaves the call's rooms, its media stays, and
   * the others see it reconnecting until it is back or the grace period runs out (then released).
   */
  private holdSeat(sender: CallSender, participant: CallParticipant): void {
    // a newer connection holds the participant now: this one has nothing to hold
    if (participant.socketId !== sender.socketId) return;
    participant.socketId = undefined;
    clearTimeout(participant.away);
    participant.away = setTimeout(() => {
      if (this.members.get(participant.id) === participant && !participant.socketId)
        this.freeSeat(participant);
    }, this.deps.reconnectGraceMs);
    participant.away.unref();
    const socket = this.socket(sender.socketId);
    void socket?.leave(this.everyone);
    void socket?.leave(this.admittedOnly);
    this.broadcastParticipants();
  }

  private release(sender: CallSender): void {
    const participant = this.members.get(sender.participantId);
    // a newer connection holds the participant now: this one has nothing left to free
    if (!participant || participant.socketId !== sender.socketId) return;
    const socket = this.socket(sender.socketId);
    void socket?.leave(this.everyone);
    void socket?.leave(this.admittedOnly);
    this.freeSeat(participant);
  }

  /** The participant is out until it joins again: its media closes, its admission stays. */
  private freeSeat(participant: CallParticipant): void {
    clearTimeout(participant.away);
    participant.away = undefined;
    this.mediaRoom?.peer(participant.id)?.close();
    participant.socketId = undefined;
    // a second device that goes has no standing here: the clinician has nothing left to decide
    if (participant.anotherDevice) this.members.delete(participant.id);
    this.broadcastParticipants();
    // nobody left: free the router (a later join opens a new one); the idle time starts now
    if (!this.occupied) {
      this.close();
      this.deps.links.keepAlive(this.ref).catch(() => undefined);
    }
  }

  private broadcastParticipants(): void {
    for (const participant of this.members.values()) {
      if (participant.socketId)
        this.deps.io.to(participant.socketId).emit('participants:updated', this.visibleTo(participant));
    }
  }

  /** What a participant may see: clinicians see who waits; others see only who is in the call. */
  private visibleTo(viewer: CallParticipant): Participant[] {
    return [...this.members.values()]
      .filter(
        (p) =>
          (p.socketId !== undefined || p.away !== undefined) &&
          (viewer.role === 'clinician' || p.state === 'admitted'),
      )
      .map(asSeen);
  }

  /** A socket of this node: the sender's own, or a participant's older one a reconnect replaces. */
  private socket(socketId: string): CallSocket | undefined {
    return this.deps.io.sockets.sockets.get(socketId);
  }
}
