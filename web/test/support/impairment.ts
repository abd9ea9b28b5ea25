// A call node behind the impairment relay, and what a page received, for the poor-network test
// and benchmark: the patient's transports cross a poor link while the clinician's pass untouched.
import type { types } from 'mediasoup';
import type { Page } from 'playwright-core';
import { startImpairmentRelay, type ImpairmentRelay } from '@gpc/test-support';
import {
  startCallNode,
  type CallNode,
  type CallNodeOptions,
} from '../../../signalling/test/support/call-node';

/** Where the relay listens: another loopback address, announced to browsers instead of 127.0.0.1. */
export const relayAddress = '127.0.0.2';

export interface ImpairedCallNode {
  node: CallNode;
  relay: ImpairmentRelay;
  /** From now on, only this participant's transports cross the poor link. */
  impairOnly(participantId: string): void;
  /** The video consumers a participant receives through, as mediasoup has them now. */
  videoConsumers(participantId: string): types.Consumer[];
  /** Every consumer a participant receives through (audio and video), as mediasoup has them now. */
  consumers(participantId: string): types.Consumer[];
  /** A participant's open transports (their `appData.direction` says send or recv). */
  transports(participantId: string): types.WebRtcTransport[];
  close(): Promise<void>;
}

/**
 * A call node whose WebRtcServer announces the relay's address; the relay, on the same port,
 * forwards to it. Transports are told apart by their ICE username fragment (the relay reads it in
 * each STUN check), which mediasoup's observers tie to the participant (the transport's peerId).
 */
export async function startImpairedCallNode(options: CallNodeOptions = {}): Promise<ImpairedCallNode> {
  const node = await startCallNode({ ...options, rtcAnnouncedAddress: relayAddress });
  const relay = await startImpairmentRelay({
    listenHost: relayAddress,
    port: node.rtcPort,
    targetHost: '127.0.0.1',
    targetPort: node.rtcPort,
  });
  const peerOf = (transport: types.Transport) => (transport.appData as { peerId?: string }).peerId ?? '';
  const transports = new Set<types.WebRtcTransport>();
  const consumers = new Map<string, Set<types.Consumer>>();
  for (const { worker } of node.media.workers)
    worker.observer.on('newrouter', (router) =>
      router.observer.on('newtransport', (transport) => {
        const webRtc = transport as types.WebRtcTransport;
        transports.add(webRtc);
        webRtc.observer.once('close', () => transports.delete(webRtc));
        webRtc.observer.on('newconsumer', (consumer) => {
          const set = consumers.get(peerOf(webRtc)) ?? new Set();
          set.add(consumer);
          consumers.set(peerOf(webRtc), set);
          consumer.observer.once('close', () => set.delete(consumer));
        });
      }),
    );
  // read at each check: an ICE restart gives a transport a new ufrag
  const ufragOwner = (ufrag: string | undefined) =>
    [...transports].find((transport) => transport.iceParameters.usernameFragment === ufrag);
  return {
    node,
    relay,
    impairOnly(participantId) {
      relay.select((flow) => {
        const owner = ufragOwner(flow.serverUfrag);
        return owner !== undefined && peerOf(owner) === participantId;
      });
    },
    videoConsumers: (participantId) =>
      [...(consumers.get(participantId) ?? [])].filter((consumer) => consumer.kind === 'video'),
    consumers: (participantId) => [...(consumers.get(participantId) ?? [])],
    transports: (participantId) =>
      [...transports].filter((transport) => !transport.closed && peerOf(transport) === participantId),
    async close() {
      await relay.close();
      await node.close();
    },
  };
}

/** The participant id a call link lets in: its token's `sub`. */
export function participantOfLink(link: string): string {
  const token = new URL(link).hash.replace(/^#t=/, '');
  return (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string }).sub;
}

/** What a page has received so far, summed over its inbound streams (Chromium's getStats). */
export interface ReceivedMedia {
  /** Epoch ms of the reading. */
  at: number;
  audioSamples: number;
  concealedSamples: number;
  framesDecoded: number;
  freezeCount: number;
  freezeSeconds: number;
  /** The width of the video being decoded now (the simulcast layer): 0 before any. */
  frameWidth: number;
}

export const receivedMedia = (page: Page): Promise<ReceivedMedia> =>
  page.evaluate(async () => {
    const received = {
      at: Date.now(),
      audioSamples: 0,
      concealedSamples: 0,
      framesDecoded: 0,
      freezeCount: 0,
      freezeSeconds: 0,
      frameWidth: 0,
    };
    // the receiving transport is the client's own (mediasoup-client); no public accessor for all of it
    const transport = (
      window.__call as unknown as { recvTransport?: { closed: boolean; getStats(): Promise<RTCStatsReport> } }
    ).recvTransport;
    if (!transport || transport.closed) return received;
    // no named functions in here: tsx would wrap them in a helper the page does not have
    (await transport.getStats()).forEach((entry: Record<string, number | string | undefined>) => {
      if (entry.type !== 'inbound-rtp') return;
      const stat = entry as Record<string, number | undefined>;
      if (entry.kind === 'audio') {
        received.audioSamples += stat.totalSamplesReceived ?? 0;
        received.concealedSamples += stat.concealedSamples ?? 0;
      } else if (entry.kind === 'video') {
        received.framesDecoded += stat.framesDecoded ?? 0;
        received.freezeCount += stat.freezeCount ?? 0;
        received.freezeSeconds += stat.totalFreezesDuration ?? 0;
        received.frameWidth = Math.max(received.frameWidth, stat.frameWidth ?? 0);
      }
    });
    return received;
  });
