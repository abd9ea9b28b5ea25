import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import './call.css';
import { byId, messageItem } from '../shared/nhsuk';
import type { ForcedRelay } from '@gpc/contracts';
import type { CallClient, CallState } from './call-client';
import { bindConnectionNotice } from './connection-notice';
import { bindSharedScreen } from './screen-share';
import { startQualityReports } from './quality-sampler';

export { byId };

/** Shows one section of the page and hides the others. */
export function showStep(id: string): void {
  for (const section of document.querySelectorAll<HTMLElement>('main section'))
    section.hidden = section.id !== id;
  const heading = byId(id).querySelector('h1');
  heading?.setAttribute('tabindex', '-1');
  heading?.focus();
}

/** Reads a token from the page's fragment (never sent to servers or logs) and removes it from the address bar. */
export function takeFragmentParams(): URLSearchParams {
  const params = new URLSearchParams(location.hash.slice(1));
  history.replaceState(null, '', location.pathname + location.search);
  return params;
}

const relays: readonly ForcedRelay[] = ['any', 'udp', 'tcp', 'tls'];

/**
 * `?relay=any|udp|tcp|tls` on a call page sends its media only through the TURN relay (all its
 * transports, or one): for support trying a patient's network, and for tests. Absent: direct first.
 */
export function forcedRelay(): { relay?: ForcedRelay } {
  const value = new URLSearchParams(location.search).get('relay');
  const relay = relays.find((each) => each === value);
  return relay ? { relay } : {};
}

/** Camera and microphone errors in plain words. */
export function explainMediaError(error: unknown): { title: string; text: string } {
  const name = error instanceof DOMException ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
      return {
        title: 'Your browser is not letting this page use your camera or microphone',
        text: 'Allow camera and microphone for this page: tap the camera or padlock symbol next to the web address, choose Allow, then try again.',
      };
    case 'NotFoundError':
      return {
        title: 'We could not find a camera or microphone',
        text: 'Check that your camera and microphone are connected and switched on, or use a phone or another device, then try again.',
      };
    case 'NotReadableError':
      return {
        title: 'Your camera or microphone is being used by another app',
        text: 'Close other apps that might be using them, such as other video calls, then try again.',
      };
    default:
      return {
        title: 'We cannot use your camera or microphone',
        text: 'Try again, or use a different browser or device. If it still does not work, contact your GP surgery.',
      };
  }
}

/** Wires the in-call view shared by both pages: a video tile per participant, controls and messages. */
export function bindCallView(
  client: CallClient,
  localStream: MediaStream,
  onEnd: (state: CallState) => void,
): void {
  byId<HTMLVideoElement>('self-video').srcObject = localStream;
  bindTiles(client);
  bindSharedScreen(client);
  // the practice's call data: media path and quality, every 15 s while in the call
  const stopReports = startQualityReports({
    transportStats: () => client.transportStats(),
    inCall: () => client.currentState === 'in-call',
    send: (report) => client.reportQuality(report),
  });
  client.on('state', (state) => {
    byId('reconnecting').hidden = state !== 'reconnecting';
    if (['ended', 'removed', 'refused', 'replaced', 'expired'].includes(state)) {
      stopReports();
      onEnd(state);
    }
  });
  bindChat(client);
  bindControls(client);
  bindConnectionNotice(client);
}

/** A tile for a participant: their video and their name under it. */
function remoteTile(stream: MediaStream, name: string): HTMLElement {
  const tile = document.createElement('figure');
  tile.className = 'gpc-tile';
  const video = document.createElement('video');
  video.className = 'gpc-video gpc-video--remote';
  video.autoplay = true;
  video.playsInline = true;
  const caption = document.createElement('figcaption');
  caption.textContent = name;
  tile.append(video, caption);
  video.srcObject = stream;
  return tile;
}

/** One tile per participant with media, named from the participant list, gone when their last track ends. */
function bindTiles(client: CallClient): void {
  const tiles = byId('remote-tiles');
  const names = new Map<string, string>();
  const tileStreams = new Map<string, { stream: MediaStream; tile: HTMLElement }>();
  /** Those whose connection went silent: their place is kept, and their tile says so. */
  const away = new Set<string>();
  const caption = (participantId: string) => {
    const name = names.get(participantId) ?? '';
    return away.has(participantId) ? `${name} (reconnecting…)` : name;
  };
  client.on('participants', (participants) => {
    away.clear();
    for (const participant of participants) {
      names.set(participant.participantId, participant.name);
      if (participant.connection === 'reconnecting') away.add(participant.participantId);
    }
    for (const [participantId, { tile }] of tileStreams) {
      const figcaption = tile.querySelector('figcaption');
      if (figcaption) figcaption.textContent = caption(participantId);
      tile.classList.toggle('gpc-tile--away', away.has(participantId));
    }
    const notice = byId('away-notice');
    const gone = [...away].map((participantId) => names.get(participantId) ?? '');
    notice.hidden = gone.length === 0;
    notice.textContent = gone
      .map((name) => `${name}'s connection dropped. Reconnecting… their place in the call is kept.`)
      .join(' ');
  });
  client.on('remoteTrack', ({ participantId, track, source }) => {
    // a shared screen is shown large on its own (screen-share.ts)
    if (source === 'screen') return;
    let entry = tileStreams.get(participantId);
    if (!entry) {
      const stream = new MediaStream();
      entry = { stream, tile: remoteTile(stream, caption(participantId)) };
      tiles.append(entry.tile);
      tileStreams.set(participantId, entry);
    }
    entry.stream.addTrack(track);
    void entry.tile
      .querySelector('video')
      ?.play()
      .catch(() => undefined);
  });
  client.on('remoteTrackEnded', ({ track }) => {
    for (const [participantId, entry] of tileStreams) {
      if (!entry.stream.getTracks().includes(track)) continue;
      entry.stream.removeTrack(track);
      if (entry.stream.getTracks().length === 0) {
        entry.tile.remove();
        tileStreams.delete(participantId);
      }
    }
  });
}

/** The call's messages: shown as they come, sent from the form. */
function bindChat(client: CallClient): void {
  const messages = byId('chat-messages');
  client.on('chat', ({ name, text, at }) => {
    const time = new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    messages.append(messageItem(`${name} (${time}): `, text));
    messages.scrollTop = messages.scrollHeight;
  });
  byId('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('chat-text');
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    void client.sendChat(text);
  });
}

/** Mute, camera and leave: the two toggles say what pressing them again will do. */
function bindControls(client: CallClient): void {
  const toggle = (buttonId: string, kind: 'audio' | 'video', on: string, off: string) => {
    const button = byId<HTMLButtonElement>(buttonId);
    button.addEventListener('click', () => {
      const muted = button.getAttribute('aria-pressed') !== 'true';
      button.setAttribute('aria-pressed', String(muted));
      button.textContent = muted ? off : on;
      void client.setMuted(kind, muted);
    });
  };
  toggle('mute', 'audio', 'Mute', 'Unmute');
  toggle('camera', 'video', 'Camera off', 'Camera on');
  byId('leave').addEventListener('click', () => void client.leave());
}

declare global {
  interface Window {
    /** The page's call, for the end-to-end tests' statistics. */
    __call?: CallClient;
  }
}
