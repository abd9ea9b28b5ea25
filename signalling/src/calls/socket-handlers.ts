import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Static } from '@sinclair/typebox';
import type { FastifyBaseLogger } from 'fastify';
import type { Server, Socket } from 'socket.io';
import type { types } from 'mediasoup';
import {
  AppError,
  ClientPayloads,
  HandshakeAuth,
  type Ack,
  type ClientEventName,
  type ClientResults,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '@gpc/contracts';
import { MediaNotFoundError, Room, type MediaWorkerPool, type Peer } from '@gpc/media';
import type { TokenService } from '../auth/tokens';
import type { Call, CallParticipant, CallRegistry } from './call';

export interface SocketData {
  call: Call;
  participantId: string;
}
export type CallServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
type CallSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

const payloadCheckers = Object.fromEntries(
  Object.entries(ClientPayloads).map(([event, schema]) => [event, TypeCompiler.Compile(schema)]),
) as { [E in ClientEventName]: ReturnType<typeof TypeCompiler.Compile<(typeof ClientPayloads)[E]>> };
const handshakeChecker = TypeCompiler.Compile(HandshakeAuth);

const everyone = (call: Call) => `call:${call.id}`;
const admittedOnly = (call: Call) => `call:${call.id}:admitted`;

export interface CallHandlerDeps {
  io: CallServer;
  calls: CallRegistry;
  media: MediaWorkerPool;
  tokens: TokenService;
  logger: FastifyBaseLogger;
}

/** An Error for socket.io's connect_error: its message is the stable code the client acts on. */
function refusal(code: string): Error & { data: { code: string } } {
  return Object.assign(new Error(code), { data: { code } });
}

/**
 * Wires the call protocol onto socket.io: authentication at the handshake, then one handler per
 * client event, each validating its payload and answering with an ack envelope.
 */
export function registerCallHandlers(deps: CallHandlerDeps): void {
  const { io, calls, media, tokens, logger } = deps;

  io.use((socket, next) => {
    const auth: unknown = socket.handshake.auth;
    if (!handshakeChecker.Check(auth)) return next(refusal('unauthorized'));
    try {
      const verified = tokens.verify(auth.token);
      if (verified.kind === 'staff') {
        const { claims } = verified;
        if (claims.role !== 'clinician' && claims.role !== 'admin') return next(refusal('forbidden'));
        const call = auth.callId ? calls.get(auth.callId, claims.practiceId) : undefined;
        if (!call) return next(refusal('notFound'));
        socket.data = { call, participantId: claims.sub };
        ensureParticipant(call, claims.sub, claims.name, 'clinician');
      } else {
        const { claims } = verified;
        const call = calls.get(claims.callId, claims.practiceId);
        if (!call) return next(refusal('notFound'));
        if (call.removed.has(claims.sub)) return next(refusal('forbidden'));
        socket.data = { call, participantId: claims.sub };
        ensureParticipant(call, claims.sub, claims.name, claims.role);
      }
      next();
    } catch (error) {
      next(refusal(error instanceof AppError ? error.code : 'unauthorized'));
    }
  });

  function ensureParticipant(call: Call, id: string, name: string, role: CallParticipant['role']): void {
    if (call.participants.has(id)) return;
    // clinicians are in at once; patients and guests wait to be admitted
    call.participants.set(id, {
      id,
      name,
      role,
      state: role === 'clinician' ? 'admitted' : 'waiting',
      socketId: undefined,
    });
  }

  async function roomFor(call: Call): Promise<Room> {
    if (call.room && !call.room.closed) return call.room;
    call.roomPending ??= (async () => {
      const room = await Room.create(call.id, media.leastLoaded());
      room.once('lost', () => {
        call.room = undefined;
        logger.warn({ callId: call.id }, 'call media lost; asking clients to rejoin');
        io.to(everyone(call)).emit('call:rejoin', { reason: 'The video service restarted' });
      });
      call.room = room;
      return room;
    })().finally(() => (call.roomPending = undefined));
    return call.roomPending;
  }

  function broadcastParticipants(call: Call): void {
    for (const participant of call.participants.values()) {
      if (participant.socketId)
        io.to(participant.socketId).emit('participants:updated', call.visibleTo(participant));
    }
  }

  io.on('connection', (socket: CallSocket) => {
    const { call, participantId } = socket.data;
    const self = (): CallParticipant => {
      const participant = call.participants.get(participantId);
      if (!participant || participant.socketId !== socket.id)
        throw new AppError('forbidden', 'not in this call');
      return participant;
    };
    const requireClinician = (): CallParticipant => {
      const participant = self();
      if (participant.role !== 'clinician') throw new AppError('forbidden', 'only the clinician may do this');
      return participant;
    };
    const admittedPeer = (): Peer => {
      if (self().state !== 'admitted') throw new AppError('forbidden', 'not admitted yet');
      const peer = call.room?.peer(participantId);
      if (!peer || peer.closed) throw new AppError('conflict', 'join the call first');
      return peer;
    };

    function on<E extends ClientEventName>(
      event: E,
      handler: (payload: Static<(typeof ClientPayloads)[E]>) => Promise<ClientResults[E]> | ClientResults[E],
    ): void {
      const checker = payloadCheckers[event];
      // socket.io's typed `on` cannot see through the mapped event type, hence the loose listener
      const listener = async (payload: unknown, ack: unknown): Promise<void> => {
        if (typeof ack !== 'function') return; // every event is a request: without an ack there is no one to answer
        const reply = ack as (result: Ack<ClientResults[E]>) => void;
        if (!checker.Check(payload)) {
          const first = checker.Errors(payload).First();
          reply({
            ok: false,
            error: {
              code: 'badRequest',
              message: first ? `${first.path || 'payload'}: ${first.message}` : 'invalid payload',
            },
          });
          return;
        }
        try {
          reply({ ok: true, data: await handler(payload) });
        } catch (error) {
          if (error instanceof AppError)
            reply({ ok: false, error: { code: error.code, message: error.message } });
          else if (error instanceof MediaNotFoundError)
            reply({ ok: false, error: { code: 'notFound', message: error.message } });
          else if (
            error instanceof TypeError ||
            (error instanceof Error && /invalid|missing|not supported/i.test(error.message))
          ) {
            // mediasoup's own rejection of malformed RTP/DTLS parameters
            reply({ ok: false, error: { code: 'badRequest', message: 'invalid media parameters' } });
          } else {
            logger.error({ err: error, event, callId: call.id }, 'call event failed');
            reply({ ok: false, error: { code: 'internal', message: 'Internal error' } });
          }
        }
      };
      (socket as unknown as { on(name: string, fn: (...args: unknown[]) => void): void }).on(
        event,
        (...args) => {
          void listener(args[0], args[1]);
        },
      );
    }

    on('call:join', async () => {
      const participant = call.participants.get(participantId);
      if (!participant) throw new AppError('forbidden', 'not in this call');
      const previous = participant.socketId;
      participant.socketId = socket.id;
      // a reconnect replaces the participant's old connection and starts its media afresh
      if (previous && previous !== socket.id) io.sockets.sockets.get(previous)?.disconnect(true);
      const room = await roomFor(call);
      room.addPeer(participantId);
      await socket.join(everyone(call));
      if (participant.state === 'admitted') await socket.join(admittedOnly(call));
      broadcastParticipants(call);
      return {
        callId: call.id,
        self: { participantId, name: participant.name, role: participant.role, state: participant.state },
        participants: call.visibleTo(participant),
        routerRtpCapabilities: room.router.rtpCapabilities,
      };
    });

    on('call:admit', ({ participantId: targetId }) => {
      requireClinician();
      const target = call.participants.get(targetId);
      if (!target?.socketId) throw new AppError('notFound', 'no such participant waiting');
      if (target.state !== 'admitted') {
        target.state = 'admitted';
        void io.sockets.sockets.get(target.socketId)?.join(admittedOnly(call));
        io.to(target.socketId).emit('admitted');
        broadcastParticipants(call);
      }
      return {};
    });

    on('call:remove', ({ participantId: targetId }) => {
      requireClinician();
      const target = call.participants.get(targetId);
      if (!target || target.role === 'clinician') throw new AppError('notFound', 'no such participant');
      call.removed.add(targetId);
      call.participants.delete(targetId);
      call.room?.peer(targetId)?.close();
      if (target.socketId) {
        io.to(target.socketId).emit('removed');
        io.sockets.sockets.get(target.socketId)?.disconnect(true);
      }
      broadcastParticipants(call);
      return {};
    });

    on('call:leave', () => {
      self();
      leave();
      return {};
    });

    on('transport:create', async ({ direction }) => {
      const peer = admittedPeer();
      const transport = await peer.createTransport(direction);
      if (direction === 'recv') {
        // after the ack, so the client has its recv transport before the offers arrive
        setImmediate(() => {
          for (const { peer: owner, producer } of call.room?.producersFor(peer) ?? []) {
            socket.emit('producer:new', {
              producerId: producer.id,
              participantId: owner.id,
              kind: producer.kind,
            });
          }
        });
      }
      return {
        transportId: transport.id,
        iceParameters: transport.iceParameters as unknown as Record<string, unknown>,
        iceCandidates: transport.iceCandidates as unknown as Record<string, unknown>[],
        dtlsParameters: transport.dtlsParameters as unknown as Record<string, unknown>,
      };
    });

    on('transport:connect', async ({ transportId, dtlsParameters }) => {
      await admittedPeer()
        .transport(transportId)
        .connect({ dtlsParameters: dtlsParameters as unknown as types.DtlsParameters });
      return {};
    });

    on('transport:restart-ice', async ({ transportId }) => {
      const iceParameters = await admittedPeer().transport(transportId).restartIce();
      return { iceParameters: iceParameters as unknown as Record<string, unknown> };
    });

    on('produce', async ({ transportId, kind, rtpParameters }) => {
      const peer = admittedPeer();
      const producer = await peer.produce(transportId, kind, rtpParameters as unknown as types.RtpParameters);
      const announce = { producerId: producer.id, participantId, kind: producer.kind };
      socket.to(admittedOnly(call)).emit('producer:new', announce);
      producer.observer.once('close', () =>
        io.to(admittedOnly(call)).emit('producer:closed', { producerId: producer.id }),
      );
      return { producerId: producer.id };
    });

    on('consume', async ({ transportId, producerId, rtpCapabilities }) => {
      const consumer = await admittedPeer().consume(transportId, producerId, rtpCapabilities);
      return {
        consumerId: consumer.id,
        producerId,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown>,
      };
    });

    on('consumer:resume', async ({ consumerId }) => {
      const consumer = admittedPeer().consumer(consumerId);
      await consumer.resume();
      // a fresh keyframe makes the first picture appear at once rather than at the next keyframe
      if (consumer.kind === 'video') await consumer.requestKeyFrame();
      return {};
    });

    on('producer:pause', async ({ producerId }) => {
      await admittedPeer().producer(producerId).pause();
      return {};
    });

    on('producer:resume', async ({ producerId }) => {
      await admittedPeer().producer(producerId).resume();
      return {};
    });

    on('chat:send', ({ text }) => {
      const participant = self();
      if (participant.state !== 'admitted') throw new AppError('forbidden', 'not admitted yet');
      io.to(admittedOnly(call)).emit('chat:message', {
        participantId,
        name: participant.name,
        text,
        at: new Date().toISOString(),
      });
      return {};
    });

    function leave(): void {
      const participant = call.participants.get(participantId);
      if (!participant || participant.socketId !== socket.id) return;
      call.room?.peer(participantId)?.close();
      participant.socketId = undefined;
      void socket.leave(everyone(call));
      void socket.leave(admittedOnly(call));
      broadcastParticipants(call);
      if ([...call.participants.values()].every((p) => p.socketId === undefined)) {
        // nobody left: free the router; a later join makes a new one
        call.room?.close();
        call.room = undefined;
      }
    }

    // a dropped connection frees its media but keeps the participant's admission for its reconnect
    socket.on('disconnect', leave);
  });
}
