import type { FastifyBaseLogger } from 'fastify';
import type { types } from 'mediasoup';
import type { IceServer, TransportResult } from '@gpc/contracts';
import type { TokenService } from '../auth/tokens';
import { acknowledgedEvents, refuseUnknownEvents } from './acknowledged-events';
import type { CallRegistry } from './call-registry';
import type { CallSender, CallSession } from './call-session';
import type { CallServer, CallSocket } from './call-socket';
import { authenticateHandshake } from './handshake';

export interface CallHandlerDeps {
  io: CallServer;
  calls: CallRegistry;
  tokens: TokenService;
  logger: FastifyBaseLogger;
  /** The call's TURN servers with a participant's own time-limited credentials (none without TURN). */
  iceServers: (participantId: string) => IceServer[];
}

type On = ReturnType<typeof acknowledgedEvents>;

/**
 * socket.io's reasons for a connection lost rather than closed: no answer to its pings (a phone
 * that stopped the page in the background), or the transport closed or failed under it.
 */
const silentDrops = new Set<string>(['ping timeout', 'transport close', 'transport error']);

/** mediasoup's parameter objects travel as plain JSON objects; mediasoup itself checks them. */
const asJson = (value: object) => value as unknown as Record<string, unknown>;

function transportResult(transport: types.WebRtcTransport): TransportResult {
  return {
    transportId: transport.id,
    iceParameters: asJson(transport.iceParameters),
    iceCandidates: transport.iceCandidates.map(asJson),
    dtlsParameters: asJson(transport.dtlsParameters),
  };
}

/** Joining, the waiting room, leaving, ending and chat: everything but media. */
function wireParticipantEvents(
  on: On,
  session: CallSession,
  sender: CallSender,
  holderKey: string | undefined,
  iceServers: CallHandlerDeps['iceServers'],
): void {
  on('call:join', async () => ({
    ...(await session.join(sender)),
    // fresh credentials on every join: a rejoin after they ran out gets new ones
    iceServers: iceServers(sender.participantId),
    ...(holderKey === undefined ? {} : { holderKey }),
  }));
  on('call:admit', async ({ participantId }) => {
    await session.admit(sender, participantId);
    return {};
  });
  on('call:remove', async ({ participantId }) => {
    await session.remove(sender, participantId);
    return {};
  });
  on('call:end', async () => {
    await session.end(sender);
    return {};
  });
  on('call:leave', () => {
    session.leave(sender);
    return {};
  });
  on('chat:send', ({ text }) => {
    session.chat(sender, text);
    return {};
  });
  on('call:quality', (report) => {
    session.reportQuality(sender, report);
    return {};
  });
}

/** Transports, producers and consumers: the admitted participant's media. */
function wireMediaEvents(
  on: On,
  session: CallSession,
  sender: CallSender,
  iceServers: CallHandlerDeps['iceServers'],
): void {
  // transports and producers may be made in the waiting room; consumers only once admitted
  on('transport:create', async ({ direction }) => {
    const transport = await session.joinedPeer(sender).createTransport(direction);
    // after the ack, so the client has its recv transport before the offers arrive
    if (direction === 'recv') setImmediate(() => session.offerProducersTo(sender));
    return transportResult(transport);
  });
  on('transport:connect', async ({ transportId, dtlsParameters }) => {
    const parameters = dtlsParameters as unknown as types.DtlsParameters;
    await session.joinedPeer(sender).connectTransport(transportId, parameters);
    return {};
  });
  on('transport:restart-ice', async ({ transportId }) => {
    const iceParameters = await session.joinedPeer(sender).transport(transportId).restartIce();
    // a relayed call outlasting its credentials gets through the relay again with fresh ones
    return { iceParameters: asJson(iceParameters), iceServers: iceServers(sender.participantId) };
  });
  on('produce', async ({ transportId, kind, rtpParameters, appData }) => {
    const parameters = rtpParameters as unknown as types.RtpParameters;
    const producer = await session.produce(sender, transportId, kind, parameters, appData?.source);
    return { producerId: producer.id };
  });
  on('consume', async ({ transportId, producerId, rtpCapabilities }) => {
    const peer = session.admittedPeer(sender);
    const consumer = await peer.consume(transportId, producerId, rtpCapabilities);
    return {
      consumerId: consumer.id,
      producerId,
      kind: consumer.kind,
      rtpParameters: asJson(consumer.rtpParameters),
    };
  });
  on('consumer:resume', async ({ consumerId }) => {
    await session.admittedPeer(sender).resumeConsumer(consumerId);
    return {};
  });
  on('call:audio-only', async ({ on: audioOnly }) => {
    await session.admittedPeer(sender).setAudioOnly(audioOnly);
    return {};
  });
  on('producer:pause', async ({ producerId }) => {
    await session.joinedPeer(sender).producer(producerId).pause();
    return {};
  });
  on('producer:resume', async ({ producerId }) => {
    await session.joinedPeer(sender).producer(producerId).resume();
    return {};
  });
  on('producer:close', ({ producerId }) => {
    session.closeProducer(sender, producerId);
    return {};
  });
}

/**
 * Wires the call protocol onto socket.io: authentication at the handshake, then one handler per
 * client event, each calling the connection's call session.
 */
export function registerCallHandlers({ io, calls, tokens, logger, iceServers }: CallHandlerDeps): void {
  io.use(authenticateHandshake(calls, tokens));
  io.on('connection', (socket: CallSocket) => {
    const { session, participantId, holderKey } = socket.data;
    const sender: CallSender = { participantId, socketId: socket.id };
    refuseUnknownEvents(socket);
    const on = acknowledgedEvents(socket, logger);
    wireParticipantEvents(on, session, sender, holderKey, iceServers);
    wireMediaEvents(on, session, sender, iceServers);
    // a connection that went silent (not closed on purpose by either side) keeps its seat a while
    socket.on('disconnect', (reason) => session.disconnected(sender, silentDrops.has(reason)));
  });
}
