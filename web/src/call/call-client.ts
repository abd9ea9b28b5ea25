import type { types } from 'mediasoup-client';
import { Device } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  ClientResults,
  ClientToServerEvents,
  ConnectionQualityChange,
  ForcedRelay,
  IceServer,
  JoinResult,
  MediaPath,
  Participant,
  ProducerInfo,
  ProducerSource,
  QualityReport,
  RemovalReason,
  ServerToClientEvents,
} from '@gpc/contracts';
import { mediaPath, selectedCandidate, type SelectedCandidate } from './media-path';

/**
 * Where the call stands for this page. Out of the call: `ended` (left, or the call ended),
 * `removed` by the clinician, `refused` (a second device on a link the clinician kept out),
 * `replaced` (the clinician let another device take the link over), `expired` (a link not valid).
 */
export type CallState =
  | 'connecting'
  | 'waiting'
  | 'in-call'
  | 'reconnecting'
  | 'ended'
  | 'removed'
  | 'refused'
  | 'replaced'
  | 'expired';

/** Where a link's device keeps its holder key between connections (the page's session storage). */
export interface HolderKeyStore {
  get(): string | undefined;
  set(key: string): void;
}

export interface CallClientEvents {
  state: CallState;
  participants: Participant[];
  /** A remote track to show: a participant's camera and microphone, or a screen they share (shown large). */
  remoteTrack: { participantId: string; track: MediaStreamTrack; source: ProducerSource };
  remoteTrackEnded: { track: MediaStreamTrack };
  /** This page started (true) or stopped (false) sharing its screen. */
  sharing: boolean;
  chat: { name: string; text: string; at: string };
  /** To clinicians: a link another device holds was opened on a second device, now waiting. */
  anotherDevice: { participantId: string; name: string };
  /** The SFU finds the path to this page poor (the page offers audio only), or good again. */
  connectionQuality: ConnectionQualityChange;
}

/** The page's state for each reason the server gives for putting a participant out of the call. */
const outOfCall: Record<RemovalReason, CallState> = {
  removed: 'removed',
  refused: 'refused',
  replaced: 'replaced',
  ended: 'ended',
};

/** The page's state for a handshake the server refused, by its code and words. */
function refusedAs(code: string, message = ''): CallState {
  if (/call has ended/.test(message)) return 'ended';
  if (code === 'forbidden') return 'removed';
  if (code === 'tooManyRequests') return 'refused';
  return 'expired';
}

type Listener<K extends keyof CallClientEvents> = (value: CallClientEvents[K]) => void;

/** The TURN URLs a forced relay keeps: all, or those of one transport (turns: is TLS). */
function relayUrls(urls: readonly string[], relay: ForcedRelay): string[] {
  if (relay === 'any') return [...urls];
  if (relay === 'tls') return urls.filter((url) => url.startsWith('turns:'));
  const transport = (url: string) => /[?&]transport=(udp|tcp)/.exec(url)?.[1] ?? 'udp';
  return urls.filter((url) => url.startsWith('turn:') && transport(url) === relay);
}

const iceDisconnectedGraceMs = 2000;
/** How often a page whose socket is down asks where its call lives (a dead node's key lives 6 s). */
const placementRetryMs = 2000;

/**
 * Where socket.io connects for a node URL: a node reached through the site (`…/call-node/<id>`)
 * on the page's own origin (so `connect-src 'self'` holds, whatever host name the page was opened
 * by), path `/call-node/<id>/socket.io`; a node with an origin of its own there; none, the site's `/socket.io`.
 */
export function socketTarget(place: string | undefined): { url: string; path: string } {
  if (!place) return { url: '/', path: '/socket.io' };
  const node = new URL(place, location.href);
  const base = node.pathname.replace(/\/+$/, '');
  const origin = base.startsWith('/call-node/') ? location.origin : node.origin;
  return { url: origin, path: `${base}/socket.io` };
}
const iceRestartTimeoutMs = 6000;

/**
 * One participant's side of a video call: socket.io signalling and mediasoup-client media. It
 * recovers on its own: ICE restart when a transport stays `disconnected` ~2 s (browsers only say
 * `failed` after ~30 s), a full rejoin when that does not bring media back or the server asks,
 * and a rejoin after socket.io reconnects.
 */
export class CallClient {
  private socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly token: string | (() => Promise<string>);
  /** Asks where the call lives now; absent, the site's own `/socket.io` is the call's node. */
  private readonly locate: (() => Promise<string | undefined>) | undefined;
  /** The node URL the socket goes to (undefined: the site's own `/socket.io`). */
  private place: string | undefined;
  private relocating: Promise<void> | undefined;
  /** While the socket is down: asks again every few seconds where the call lives (its node may be gone). */
  private relocateTimer: ReturnType<typeof setInterval> | undefined;
  /** The last try to get a fresh token (a member of staff's host token) failed. */
  private tokenUnavailable = false;
  /** Fails the requests still waiting on a socket once it is left for another node's. */
  private leaveSocket: (why: Error) => void = () => undefined;
  private socketLeft: Promise<never> = new Promise(() => undefined);
  private readonly listeners = new Map<keyof CallClientEvents, Set<(value: never) => void>>();
  private device: Device | undefined;
  private sendTransport: types.Transport | undefined;
  private recvTransport: types.Transport | undefined;
  private readonly producers = new Map<'audio' | 'video', types.Producer>();
  private readonly consumers = new Map<string, types.Consumer>();
  /** The screen this page shares, and its producer while it is sent. */
  private screenTrack: MediaStreamTrack | undefined;
  private screenProducer: types.Producer | undefined;
  /** Producers whose consume is under way: the server may offer one twice (at admission and at recv transport). */
  private readonly consuming = new Set<string>();
  /** This join's transports and producers, made once: in the waiting room, so admission only adds consumers. */
  private mediaReady: Promise<void> | undefined;
  /** The person chose audio only: the camera's encodings stay off. */
  private audioOnly = false;
  /** The call node says the path from this page is losing packets: the camera's encodings are off meanwhile. */
  private uplinkCongested = false;
  /** Changes to the camera's encodings, one at a time (each renegotiates). */
  private videoSending: Promise<void> = Promise.resolve();
  /** Counts joins: media made for an earlier one is closed, not kept. */
  private generation = 0;
  private joined: JoinResult | undefined;
  private rebuilding: Promise<void> | undefined;
  private state: CallState = 'connecting';
  private ended = false;
  private readonly holderKeys: HolderKeyStore | undefined;
  private readonly relay: ForcedRelay | undefined;
  /** When each step of joining happened here (epoch ms), the latest 200: the join benchmark reads them. */
  readonly timeline: { step: string; at: number }[] = [];

  /**
   * `token` is a call token triage signed: a link's, or a function giving a fresh host token for
   * each connection (a member of staff's lasts minutes, so every reconnect asks for a new one).
   */
  constructor(
    token: string | (() => Promise<string>),
    private readonly localStream: MediaStream,
    options: {
      url?: string;
      holderKeys?: HolderKeyStore;
      relay?: ForcedRelay;
      /**
       * Where the call lives now (its node's URL, e.g. `https://<site>/call-node/<id>`), asked before
       * the first join and again while the socket is down, so a call placed on another node (its node
       * died) is followed there. Undefined: the site's own `/socket.io`. A failure is asked again.
       */
      locate?: () => Promise<string | undefined>;
    } = {},
  ) {
    this.token = token;
    this.holderKeys = options.holderKeys;
    this.relay = options.relay;
    this.locate = options.locate;
    this.place = options.url;
    // without placement it connects at once; with it, once it knows where the call lives
    this.socket = this.openSocket(this.place, !this.locate);
    if (this.locate) void this.relocate(true);
    // a change of network (Wi-Fi to mobile data) gets the same treatment as a stalled path
    window.addEventListener('online', () => this.restartIceAll());
    (navigator as Navigator & { connection?: EventTarget }).connection?.addEventListener('change', () =>
      this.restartIceAll(),
    );
  }

  /** A socket.io connection to the node at `place` (see socketTarget), its events bound to this call. */
  private openSocket(
    place: string | undefined,
    connect: boolean,
  ): Socket<ServerToClientEvents, ClientToServerEvents> {
    const token = this.token;
    const target = socketTarget(place);
    this.socketLeft = new Promise<never>((_resolve, reject) => (this.leaveSocket = reject));
    this.socketLeft.catch(() => undefined);
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(target.url, {
      path: target.path,
      autoConnect: connect,
      auth:
        typeof token === 'string'
          ? (send) => {
              // a link's device presents its holder key on every connection: it rejoins as the holder
              const holderKey = this.holderKeys?.get();
              send(holderKey ? { token, holderKey } : { token });
            }
          : (send) =>
              void token().then(
                (fresh) => {
                  this.tokenUnavailable = false;
                  send({ token: fresh });
                },
                (error: unknown) => {
                  // triage did not give a fresh token just now (busy, restarting, the network): the
                  // refusal this brings is not the call's end (see connect_error). A 401 or 403 is:
                  // the member of staff's session is over, or the call is not theirs to host
                  const status = (error as { status?: unknown } | undefined)?.status;
                  this.tokenUnavailable = status !== 401 && status !== 403;
                  send({ token: '' });
                },
              ),
      transports: ['websocket', 'polling'],
      // a restarted call node is back in seconds: try every 1-3 s (socket.io's default backs off to
      // 2.5-7.5 s, which left a call silent for up to 7 s after the node was back)
      reconnectionDelay: 1000,
      reconnectionDelayMax: 2000,
    });
    socket.on('connect_error', (error: Error & { data?: { message?: string } }) => {
      this.watchPlacement();
      // the call node cannot check the link just now (Redis is away), or this page could not get a
      // fresh token from triage for this attempt: ask again shortly
      if (error.message === 'unavailable' || (error.message === 'unauthorized' && this.tokenUnavailable)) {
        this.setState('reconnecting');
        setTimeout(() => {
          if (!this.ended && socket === this.socket) socket.connect();
        }, 2000);
        return;
      }
      // the server refuses with a code: an invalid or expired link will not get better by retrying
      if (['unauthorized', 'forbidden', 'notFound', 'tooManyRequests'].includes(error.message)) {
        socket.disconnect();
        this.finish(refusedAs(error.message, error.data?.message));
      }
    });
    socket.on('connect', () => {
      this.stopWatchingPlacement();
      void this.rejoin();
    });
    socket.on('disconnect', (reason) => {
      if (this.ended || socket !== this.socket) return;
      this.setState('reconnecting');
      // the call node closes a socket when its token runs out: connect again, with a fresh token
      if (reason === 'io server disconnect') socket.connect();
      this.watchPlacement();
    });
    socket.on('admitted', () => {
      this.mark('admitted');
      void this.startMedia().catch((error: unknown) => {
        console.warn('could not start media, joining again', error);
        void this.rejoin();
      });
    });
    socket.on('removed', (why) => this.finish(outOfCall[why.reason]));
    socket.on('link:opened-elsewhere', (device) => this.emit('anotherDevice', device));
    socket.on('call:rejoin', () => void this.rejoin());
    socket.on('participants:updated', (participants) => this.emit('participants', participants));
    socket.on('producer:new', (producer) => void this.consume(producer));
    socket.on('producer:closed', ({ producerId }) => this.dropConsumer(producerId));
    socket.on('chat:message', (message) => this.emit('chat', message));
    socket.on('connection:quality', (change) => this.emit('connectionQuality', change));
    socket.on('connection:uplink', ({ state }) => {
      this.uplinkCongested = state === 'congested';
      void this.applyVideoSending();
    });
    return socket;
  }

  /**
   * Asks where the call lives and, if it has moved (its node stopped and triage placed it on
   * another), connects there: the join that follows resumes this page (a link's holder key, a
   * member of staff's fresh host token), with no new admission. `reopen`: connect even if it has not
   * moved (the page's first connection, or one not trying any more).
   */
  private relocate(reopen = false): Promise<void> {
    const locate = this.locate;
    if (!locate) return Promise.resolve();
    this.relocating ??= (async () => {
      try {
        const place = await locate();
        if (this.ended) return;
        if (reopen || place !== this.place) {
          if (place !== this.place) this.mark('call placed on another node');
          const [old, leave] = [this.socket, this.leaveSocket];
          this.place = place;
          this.socket = this.openSocket(place, true);
          old.removeAllListeners();
          old.disconnect();
          leave(new Error('the call moved to another node'));
        }
      } catch (error) {
        // triage cannot say just now (no node live yet, or it is away): asked again shortly
        console.warn('could not learn where the call lives, asking again', error);
        if (reopen) this.setState('reconnecting');
        this.watchPlacement();
      } finally {
        this.relocating = undefined;
      }
    })();
    return this.relocating;
  }

  /** While the socket is down (or was never up), asks every 2 s where the call lives. */
  private watchPlacement(): void {
    if (!this.locate || this.relocateTimer || this.ended) return;
    this.relocateTimer = setInterval(() => {
      if (this.ended || this.socket.connected) return this.stopWatchingPlacement();
      void this.relocate(!this.socket.active);
    }, placementRetryMs);
  }

  private stopWatchingPlacement(): void {
    clearInterval(this.relocateTimer);
    this.relocateTimer = undefined;
  }

  on<K extends keyof CallClientEvents>(event: K, listener: Listener<K>): void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener);
    this.listeners.set(event, set);
  }

  private emit<K extends keyof CallClientEvents>(event: K, value: CallClientEvents[K]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as Listener<K>)(value);
  }

  private mark(step: string): void {
    this.timeline.push({ step, at: performance.timeOrigin + performance.now() });
    if (this.timeline.length > 200) this.timeline.shift();
  }

  private setState(state: CallState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  get currentState(): CallState {
    return this.state;
  }

  /** The node URL this page's call connects to (undefined: the site's own `/socket.io`). */
  get nodeUrl(): string | undefined {
    return this.place;
  }

  get self(): Participant | undefined {
    return this.joined?.self;
  }

  private async request<E extends keyof ClientResults>(
    event: E,
    payload: unknown,
  ): Promise<ClientResults[E]> {
    const emitter = this.socket.timeout(10_000) as unknown as {
      emitWithAck(name: string, body: unknown): Promise<Ack<ClientResults[E]>>;
    };
    // a request waiting on a node the call has left fails at once: the join on the new node follows
    const result = await Promise.race([emitter.emitWithAck(event, payload), this.socketLeft]);
    if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
    return result.data;
  }

  /** Joins (again) from scratch: new transports, producers and consumers. */
  private rejoin(): Promise<void> {
    this.rebuilding ??= (async () => {
      const socket = this.socket;
      try {
        this.teardownMedia();
        this.joined = await this.request('call:join', {});
        if (this.joined.holderKey) this.holderKeys?.set(this.joined.holderKey);
        this.device = new Device();
        await this.device.load({ routerRtpCapabilities: this.joined.routerRtpCapabilities });
        if (this.joined.self.state === 'admitted') await this.startMedia();
        else {
          this.setState('waiting');
          // ready before the clinician admits: admission then only adds consumers
          void this.prepareMedia().catch((error: unknown) =>
            console.warn('could not prepare media while waiting', error),
          );
        }
      } catch (error) {
        if (!this.ended) {
          console.warn('rejoin failed, retrying', error);
          // at once on the node the call moved to; otherwise shortly
          setTimeout(() => void this.rejoin(), socket === this.socket ? 1500 : 0);
        }
      } finally {
        this.rebuilding = undefined;
      }
    })();
    return this.rebuilding;
  }

  private async createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    const device = this.device!;
    const options = await this.request('transport:create', { direction });
    const params = {
      id: options.transportId,
      iceParameters: options.iceParameters as unknown as types.IceParameters,
      iceCandidates: options.iceCandidates as unknown as types.IceCandidate[],
      dtlsParameters: options.dtlsParameters as unknown as types.DtlsParameters,
      // the relay for networks that block direct media; only a forced relay skips the direct paths
      iceServers: this.iceServers(),
      iceTransportPolicy: this.relay ? ('relay' as const) : ('all' as const),
    };
    const transport =
      direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
    this.mark(`${direction} transport created`);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.mark(`${direction} transport DTLS parameters sent`);
      this.request('transport:connect', { transportId: transport.id, dtlsParameters }).then(
        () => callback(),
        errback,
      );
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        // a shared screen says so; the camera and microphone go without
        const source = appData.source === 'screen' ? { appData: { source: 'screen' } } : {};
        this.request('produce', { transportId: transport.id, kind, rtpParameters, ...source }).then(
          ({ producerId }) => callback({ id: producerId }),
          errback,
        );
      });
    }
    this.watchConnection(transport);
    return transport;
  }

  private iceServers(): IceServer[] {
    const servers = this.joined?.iceServers ?? [];
    const relay = this.relay;
    if (!relay) return servers;
    return servers
      .map((server) => ({ ...server, urls: relayUrls(server.urls, relay) }))
      .filter((server) => server.urls.length > 0);
  }

  private watchConnection(transport: types.Transport): void {
    let disconnectedTimer: ReturnType<typeof setTimeout> | undefined;
    let recoveryTimer: ReturnType<typeof setTimeout> | undefined;
    transport.on('connectionstatechange', (state) => {
      this.mark(`${transport.direction} transport ${state}`);
      clearTimeout(disconnectedTimer);
      if (state === 'connected') {
        clearTimeout(recoveryTimer);
        // transports are made in the waiting room too: back from reconnecting, the page waits again
        this.setState(this.joined?.self.state === 'admitted' ? 'in-call' : 'waiting');
        return;
      }
      if (state === 'disconnected') {
        this.setState('reconnecting');
        disconnectedTimer = setTimeout(() => {
          void this.restartIce(transport);
          // if ICE restart does not bring media back, start again rather than leave a frozen picture
          recoveryTimer = setTimeout(() => {
            if (transport.connectionState !== 'connected') void this.rejoin();
          }, iceRestartTimeoutMs);
        }, iceDisconnectedGraceMs);
      }
      if (state === 'failed') void this.rejoin();
    });
  }

  private async restartIce(transport: types.Transport): Promise<void> {
    if (transport.closed) return;
    try {
      const { iceParameters, iceServers } = await this.request('transport:restart-ice', {
        transportId: transport.id,
      });
      // the join's TURN credentials may have run out (a relayed call past their hour): fresh ones first
      if (this.joined) this.joined.iceServers = iceServers;
      await transport
        .updateIceServers({ iceServers: this.iceServers() })
        .catch((error: unknown) => console.warn('could not update the ICE servers', error));
      await transport.restartIce({ iceParameters: iceParameters as unknown as types.IceParameters });
    } catch (error) {
      console.warn('ICE restart failed', error);
    }
  }

  private restartIceAll(): void {
    for (const transport of [this.sendTransport, this.recvTransport])
      if (transport) void this.restartIce(transport);
  }

  /** Admitted (just now, or already at the join): the waiting room's media starts sending. */
  private async startMedia(): Promise<void> {
    if (!this.device || this.ended) return;
    if (this.joined) this.joined.self.state = 'admitted';
    this.setState('connecting');
    await this.prepareMedia();
    await this.setSending(true);
    this.mark('sending');
    // a rejoin while sharing shares the same screen again
    if (this.screenTrack) await this.produceScreen(this.screenTrack);
    this.setState('in-call');
  }

  /** This join's transports and producers, made once (again after a failure). */
  private prepareMedia(): Promise<void> {
    this.mediaReady ??= this.createMedia().catch((error: unknown) => {
      this.mediaReady = undefined;
      throw error;
    });
    return this.mediaReady;
  }

  /**
   * Both transports, then a producer per track. While waiting they are made but send nothing (no
   * patient's picture or sound leaves the page, and no mobile data is spent) until admission.
   */
  private async createMedia(): Promise<void> {
    const generation = this.generation;
    const current = <T extends { close(): void }>(made: T): T => {
      if (generation === this.generation && !this.ended) return made;
      made.close();
      throw new Error('the join this media was for is over');
    };
    // what an attempt that failed part way made (refused while waiting by an older call node, say)
    for (const producer of this.producers.values()) producer.close();
    this.producers.clear();
    // a new send transport: the call node judges its path afresh
    this.uplinkCongested = false;
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.recvTransport = current(await this.createTransport('recv'));
    const send = current(await this.createTransport('send'));
    this.sendTransport = send;
    const audio = this.localStream.getAudioTracks()[0];
    if (audio)
      this.producers.set(
        'audio',
        current(await send.produce({ track: audio, stopTracks: false, codecOptions: { opusDtx: true } })),
      );
    const video = this.localStream.getVideoTracks()[0];
    if (video) {
      const vp8 = this.device?.rtpCapabilities.codecs?.find(
        (codec) => codec.mimeType.toLowerCase() === 'video/vp8',
      );
      this.producers.set(
        'video',
        current(
          await send.produce({
            track: video,
            // the page owns the camera: a rejoin re-uses the same track
            stopTracks: false,
            ...(vp8 ? { codec: vp8 } : {}),
            // three simulcast layers where the camera allows; the SFU picks one per receiver
            encodings: [
              { scaleResolutionDownBy: 4, maxBitrate: 100_000 },
              { scaleResolutionDownBy: 2, maxBitrate: 300_000 },
              { scaleResolutionDownBy: 1, maxBitrate: 900_000 },
            ],
            codecOptions: { videoGoogleStartBitrate: 1000 },
          }),
        ),
      );
    }
    if (this.joined?.self.state !== 'admitted') await this.setSending(false);
    this.mark('media ready');
  }

  /** Turns the producers' encodings on or off: not pause, which is the page's mute and blanks the preview. */
  private async setSending(active: boolean): Promise<void> {
    const open = [...this.producers.entries()].filter(([, producer]) => !producer.closed);
    await Promise.all(
      open.map(([kind, producer]) =>
        kind === 'video' && active ? this.applyVideoSending() : producer.setRtpEncodingParameters({ active }),
      ),
    );
  }

  /**
   * The camera's encodings on while admitted, unless the person chose audio only or the call node
   * says the uplink is congested (then the link is left to audio; with REMB alone the lowest layer
   * and audio filled a 100 kbps uplink and lost a quarter of their packets). Not a pause: the
   * camera button stays the person's own, and a camera they turned off stays off. Audio is untouched.
   */
  private applyVideoSending(): Promise<void> {
    this.videoSending = this.videoSending.then(async () => {
      const video = this.producers.get('video');
      if (!video || video.closed || this.joined?.self.state !== 'admitted') return;
      const active = !this.audioOnly && !this.uplinkCongested;
      const now = video.rtpSender?.getParameters().encodings.some((encoding) => encoding.active);
      if (now === active) return;
      await video.setRtpEncodingParameters({ active }).catch(() => undefined);
    });
    return this.videoSending;
  }

  private async consume(producer: ProducerInfo): Promise<void> {
    const transport = this.recvTransport;
    const { producerId, kind } = producer;
    if (!transport || !this.device || this.consumers.has(producerId) || this.consuming.has(producerId))
      return;
    this.mark(`${kind} producer offered`);
    this.consuming.add(producerId);
    try {
      const result = await this.request('consume', {
        transportId: transport.id,
        producerId,
        rtpCapabilities: this.device.recvRtpCapabilities,
      });
      this.mark(`${kind} consumer created`);
      const consumer = await transport.consume({
        id: result.consumerId,
        producerId: result.producerId,
        kind: result.kind,
        rtpParameters: result.rtpParameters as unknown as types.RtpParameters,
      });
      this.consumers.set(producerId, consumer);
      this.mark(`${kind} consumer ready`);
      this.emit('remoteTrack', {
        participantId: producer.participantId,
        track: consumer.track,
        source: producer.source,
      });
      await this.request('consumer:resume', { consumerId: consumer.id });
      this.mark(`${kind} consumer resumed`);
    } finally {
      this.consuming.delete(producerId);
    }
  }

  private dropConsumer(producerId: string): void {
    const consumer = this.consumers.get(producerId);
    if (!consumer) return;
    consumer.close();
    this.consumers.delete(producerId);
    this.emit('remoteTrackEnded', { track: consumer.track });
  }

  private teardownMedia(): void {
    this.generation++;
    this.mediaReady = undefined;
    for (const producerId of [...this.consumers.keys()]) this.dropConsumer(producerId);
    for (const producer of this.producers.values()) producer.close();
    this.producers.clear();
    this.screenProducer?.close();
    this.screenProducer = undefined;
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = undefined;
    this.recvTransport = undefined;
  }

  /**
   * Shares a screen (from getDisplayMedia) with everyone in the call, whose pages show it large,
   * until `stopSharing` or until the browser ends the capture (its own "Stop sharing").
   */
  async shareScreen(track: MediaStreamTrack): Promise<void> {
    if (this.screenTrack) await this.stopSharing();
    this.screenTrack = track;
    track.addEventListener('ended', () => {
      if (this.screenTrack === track) void this.stopSharing();
    });
    this.emit('sharing', true);
    try {
      if (this.sendTransport && this.joined?.self.state === 'admitted') await this.produceScreen(track);
    } catch (error) {
      await this.stopSharing();
      throw error;
    }
  }

  /** Stops sharing: the others' pages go back to the call's usual layout. */
  async stopSharing(): Promise<void> {
    const [track, producer] = [this.screenTrack, this.screenProducer];
    this.screenTrack = undefined;
    this.screenProducer = undefined;
    track?.stop();
    if (track) this.emit('sharing', false);
    if (!producer || producer.closed) return;
    producer.close();
    await this.request('producer:close', { producerId: producer.id }).catch((error: unknown) =>
      console.warn('could not stop sharing on the server', error),
    );
  }

  get sharing(): boolean {
    return this.screenTrack !== undefined;
  }

  /** One sharp layer: text on a leaflet must stay readable, and a still screen costs little. */
  private async produceScreen(track: MediaStreamTrack): Promise<void> {
    const send = this.sendTransport;
    if (!send || send.closed || this.screenProducer) return;
    track.contentHint = 'detail';
    const producer = await send.produce({
      track,
      stopTracks: false,
      encodings: [{ maxBitrate: 1_500_000 }],
      appData: { source: 'screen' },
    });
    // stopped (or a rejoin began) while it was being made
    if (this.screenTrack === track && this.sendTransport === send) this.screenProducer = producer;
    else {
      producer.close();
      void this.request('producer:close', { producerId: producer.id }).catch(() => undefined);
    }
  }

  async setMuted(kind: 'audio' | 'video', muted: boolean): Promise<void> {
    const producer = this.producers.get(kind);
    if (!producer) return;
    if (muted) producer.pause();
    else producer.resume();
    await this.request(muted ? 'producer:pause' : 'producer:resume', { producerId: producer.id });
  }

  /**
   * Audio only, for a poor connection: the server stops sending this page video, and the camera's
   * encodings stop (not a pause: the camera button stays the person's own); off brings both back.
   */
  async setAudioOnly(on: boolean): Promise<void> {
    await this.request('call:audio-only', { on });
    this.audioOnly = on;
    await this.applyVideoSending();
  }

  sendChat(text: string): Promise<unknown> {
    return this.request('chat:send', { text });
  }

  admit(participantId: string): Promise<unknown> {
    return this.request('call:admit', { participantId });
  }

  remove(participantId: string): Promise<unknown> {
    return this.request('call:remove', { participantId });
  }

  /** The clinician ends the call for everyone; its links open nothing after. */
  endForEveryone(): Promise<unknown> {
    return this.request('call:end', {});
  }

  /** Inbound RTP statistics of the receiving side, for the connection panel and for tests. */
  async inboundStats(): Promise<{ framesDecoded: number; totalSamplesReceived: number }> {
    const stats = { framesDecoded: 0, totalSamplesReceived: 0 };
    if (!this.recvTransport) return stats;
    const report = await this.recvTransport.getStats();
    report.forEach(
      (entry: { type: string; kind?: string; framesDecoded?: number; totalSamplesReceived?: number }) => {
        if (entry.type !== 'inbound-rtp') return;
        if (entry.kind === 'video') stats.framesDecoded += entry.framesDecoded ?? 0;
        if (entry.kind === 'audio') stats.totalSamplesReceived += entry.totalSamplesReceived ?? 0;
      },
    );
    return stats;
  }

  /**
   * Which path this call's media takes (the receiving transport's selected ICE candidate pair,
   * else the sending one's), with the candidate it was read from; undefined until ICE connects.
   */
  async mediaPath(): Promise<{ path: MediaPath; candidate: SelectedCandidate } | undefined> {
    for (const transport of [this.recvTransport, this.sendTransport]) {
      if (!transport || transport.closed) continue;
      const candidate = selectedCandidate(await transport.getStats());
      const path = candidate && mediaPath(candidate);
      if (candidate && path) return { path, candidate };
    }
    return undefined;
  }

  /** Both transports' statistics, those that are open: the quality sampler reads them. */
  transportStats(): Promise<RTCStatsReport[]> {
    const open = [this.recvTransport, this.sendTransport].filter(
      (transport) => transport && !transport.closed,
    );
    return Promise.all(open.map((transport) => transport!.getStats()));
  }

  /** Sends the page's quality summary for the practice's call data (signalling refuses floods). */
  reportQuality(report: QualityReport): Promise<unknown> {
    return this.request('call:quality', report);
  }

  async leave(): Promise<void> {
    await this.request('call:leave', {}).catch(() => undefined);
    this.finish('ended');
  }

  private finish(state: CallState): void {
    this.ended = true;
    this.teardownMedia();
    // out of the call: the browser stops capturing the shared screen too
    this.screenTrack?.stop();
    if (this.screenTrack) this.emit('sharing', false);
    this.screenTrack = undefined;
    this.stopWatchingPlacement();
    this.socket.disconnect();
    this.setState(state);
  }
}
