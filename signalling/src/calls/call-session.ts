import type { FastifyBaseLogger } from 'fastify';
import type { types } from 'mediasoup';
import {
  AppError,
  type JoinResult,
  type Participant,
  type ParticipantRole,
  type ParticipantState,
} from '@gpc/contracts';
import { Room, type MediaWorkerPool, type Peer } from '@gpc/media';
import type { CallServer, CallSocket } from './call-socket';

export interface CallParticipant {
  readonly id: string;
  readonly name: string;
  readonly role: ParticipantRole;
  state: ParticipantState;
  /** The socket currently speaking for this participant (its holder); a reconnect replaces it. */
  socketId: string | undefined;
}

/** Who a token lets into a call, before the session decides whether they wait. */
export type Newcomer = Pick<CallParticipant, 'id' | 'name' | 'role'>;

/** A participant as the protocol shows it to the others. */
function asSeen(participant: CallParticipant): Participant {
  return {
    participantId: participant.id,
    name: participant.name,
    role: participant.role,
    state: participant.state,
  };
}

/** Who asks: a participant, through the socket the request came on. */
export interface CallSender {
  readonly participantId: string;
  readonly socketId: string;
}

export interface CallSessionDeps {
  io: CallServer;
  media: MediaWorkerPool;
  logger: FastifyBaseLogger;
}

/**
 * One video call for one consultation, in one practice: who is in it (waiting or admitted, and
 * through which socket), who was removed, and its media room while anyone is connected. Every
 * change to them, and every message to the call's sockets, goes through here.
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

  /** At the handshake: clinicians are in at once, patients and guests wait; removed ones stay out. */
  enter(participant: Newcomer): void {
    if (this.removed.has(participant.id)) throw new AppError('forbidden', 'removed from this call');
    if (this.members.has(participant.id)) return;
    const state = participant.role === 'clinician' ? 'admitted' : 'waiting';
    this.members.set(participant.id, { ...participant, state, socketId: undefined });
  }

  /** The sender's socket becomes the participant's holder, with a fresh peer in the media room. */
  async join(sender: CallSender): Promise<JoinResult> {
    const participant = this.members.get(sender.participantId);
    if (!participant) throw new AppError('forbidden', 'not in this call');
    const previous = participant.socketId;
    participant.socketId = sender.socketId;
    // a reconnect replaces the participant's old connection and starts its media afresh
    if (previous && previous !== sender.socketId) this.socket(previous)?.disconnect(true);
    const room = await this.openRoom();
    room.addPeer(participant.id);
    await this.socket(sender.socketId)?.join(this.everyone);
    if (participant.state === 'admitted') await this.socket(sender.socketId)?.join(this.admittedOnly);
    this.broadcastParticipants();
    return {
      callId: this.id,
      self: asSeen(participant),
      participants: this.visibleTo(participant),
      routerRtpCapabilities: room.router.rtpCapabilities,
    };
  }

  admit(sender: CallSender, participantId: string): void {
    this.clinician(sender);
    const target = this.members.get(participantId);
    if (!target?.socketId) throw new AppError('notFound', 'no such participant waiting');
    if (target.state === 'admitted') return;
    target.state = 'admitted';
    void this.socket(target.socketId)?.join(this.admittedOnly);
    this.deps.io.to(target.socketId).emit('admitted');
    this.broadcastParticipants();
  }

  /** Removal is for good: the participant's media closes and its link no longer lets it in. */
  remove(sender: CallSender, participantId: string): void {
    this.clinician(sender);
    const target = this.members.get(participantId);
    if (!target || target.role === 'clinician') throw new AppError('notFound', 'no such participant');
    this.removed.add(participantId);
    this.members.delete(participantId);
    this.mediaRoom?.peer(participantId)?.close();
    if (target.socketId) {
      this.deps.io.to(target.socketId).emit('removed');
      this.socket(target.socketId)?.disconnect(true);
    }
    this.broadcastParticipants();
  }

  /** The participant hangs up: its media closes, its admission stays for when it comes back. */
  leave(sender: CallSender): void {
    this.holder(sender);
    this.release(sender);
  }

  /** A dropped connection frees its media but keeps the participant's admission for its reconnect. */
  disconnected(sender: CallSender): void {
    this.release(sender);
  }

  /** The sender's media, once the sender is admitted and has joined. */
  admittedPeer(sender: CallSender): Peer {
    this.admitted(sender);
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
  ): Promise<types.Producer> {
    const producer = await this.admittedPeer(sender).produce(transportId, kind, rtpParameters);
    this.deps.io.to(this.admittedOnly).except(sender.socketId).emit('producer:new', {
      producerId: producer.id,
      participantId: sender.participantId,
      kind: producer.kind,
    });
    producer.observer.once('close', () =>
      this.deps.io.to(this.admittedOnly).emit('producer:closed', { producerId: producer.id }),
    );
    return producer;
  }

  /** Offers the sender every producer in the call but its own, once it can receive them. */
  offerProducersTo(sender: CallSender): void {
    const peer = this.mediaRoom?.peer(sender.participantId);
    const socket = this.socket(sender.socketId);
    if (!peer || !socket) return;
    for (const { peer: owner, producer } of this.mediaRoom?.producersFor(peer) ?? []) {
      socket.emit('producer:new', { producerId: producer.id, participantId: owner.id, kind: producer.kind });
    }
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
    this.mediaRoom?.close();
    this.mediaRoom = undefined;
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
      const room = await Room.create(this.id, this.deps.media.leastLoaded());
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

  private release(sender: CallSender): void {
    const participant = this.members.get(sender.participantId);
    // a newer connection holds the participant now: this one has nothing left to free
    if (!participant || participant.socketId !== sender.socketId) return;
    this.mediaRoom?.peer(participant.id)?.close();
    participant.socketId = undefined;
    const socket = this.socket(sender.socketId);
    void socket?.leave(this.everyone);
    void socket?.leave(this.admittedOnly);
    this.broadcastParticipants();
    // nobody left: free the router; a later join opens a new one
    if ([...this.members.values()].every((member) => member.socketId === undefined)) this.close();
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
      .filter((p) => p.socketId !== undefined && (viewer.role === 'clinician' || p.state === 'admitted'))
      .map(asSeen);
  }

  /** A socket of this node: the sender's own, or a participant's older one a reconnect replaces. */
  private socket(socketId: string): CallSocket | undefined {
    return this.deps.io.sockets.sockets.get(socketId);
  }
}
