import type { CallPlacement } from '@gpc/contracts';
import { CallClient, type CallState, type HolderKeyStore } from './call-client';
import {
  bindCallView,
  byId,
  explainMediaError,
  forcedRelay,
  showStep,
  takeFragmentParams,
} from './page-common';

/**
 * The link this tab opened, and the holder key its first join gave it, kept in the tab's session
 * storage: a reload (a phone bringing the page back from the background) rejoins as the link's
 * holder without a new admission. Another device, or another tab, has neither.
 */
const linkStorageKey = 'gpc-call-link';

function openedLink(): { token: string | null; holderKeys: HolderKeyStore } {
  const fromFragment = takeFragmentParams().get('t');
  let stored: { token?: string; holderKey?: string } = {};
  try {
    stored = JSON.parse(sessionStorage.getItem(linkStorageKey) ?? '{}') as typeof stored;
  } catch {
    stored = {};
  }
  // a new link in this tab starts afresh: the key belongs to the link it came with
  if (fromFragment && fromFragment !== stored.token) stored = { token: fromFragment };
  const save = () => sessionStorage.setItem(linkStorageKey, JSON.stringify(stored));
  if (stored.token) save();
  return {
    token: stored.token ?? null,
    holderKeys: {
      get: () => stored.holderKey,
      set: (key) => {
        stored.holderKey = key;
        save();
      },
    },
  };
}

/** What the ended page says for each way out of the call. */
const endings: Partial<Record<CallState, { title: string; text: string }>> = {
  removed: {
    title: 'Your call has ended',
    text: 'Your GP surgery ended the call. You can close this page.',
  },
  refused: {
    title: 'You cannot join the call from this device',
    text: 'This link is already being used on another device, and your GP surgery has not let this device join. If you think this is wrong, contact your GP surgery.',
  },
  replaced: {
    title: 'Your call moved to another device',
    text: 'Your GP surgery let another device join with your link, so this device has left the call. You can close this page.',
  },
};

const { token, holderKeys } = openedLink();
let stream: MediaStream | undefined;

function watchMicLevel(media: MediaStream): void {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(media).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const meter = byId<HTMLMeterElement>('mic-level');
  const draw = () => {
    analyser.getFloatTimeDomainData(samples);
    meter.value = Math.min(1, Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length) * 4);
    if (!document.hidden) requestAnimationFrame(draw);
  };
  draw();
}

async function checkDevices(): Promise<void> {
  showStep('step-check');
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 1280, height: 720, facingMode: 'user' },
    });
  } catch (error) {
    const { title, text } = explainMediaError(error);
    byId('problem-title').textContent = title;
    byId('problem-text').textContent = text;
    showStep('step-problem');
    return;
  }
  byId<HTMLVideoElement>('preview').srcObject = stream;
  byId<HTMLVideoElement>('waiting-preview').srcObject = stream;
  watchMicLevel(stream);
  byId<HTMLButtonElement>('join').disabled = false;
}

/**
 * Where the call of this link lives now (`GET /api/call-placement`), asked before each join and
 * rejoin: its node's URL, or undefined for the site's own call node (calls not placed across nodes,
 * or a link triage does not know, which that node then refuses in its own words). Throws while
 * triage cannot say (no call node live just now, or triage away), so the page asks again.
 */
async function callPlacement(link: string): Promise<string | undefined> {
  const response = await fetch('/api/call-placement', { headers: { authorization: `Bearer ${link}` } });
  if (response.ok) return ((await response.json()) as CallPlacement).nodeUrl;
  if (response.status >= 500 || response.status === 429)
    throw new Error(`where the call lives is not known just now (${response.status})`);
  return undefined;
}

function join(): void {
  if (!token || !stream) return;
  const client = new CallClient(token, stream, {
    holderKeys,
    locate: () => callPlacement(token),
    ...forcedRelay(),
  });
  window.__call = client;
  bindCallView(client, stream, (state) => {
    stream?.getTracks().forEach((track) => track.stop());
    // out of the call for good: this tab's link and key let it in no more
    if (state === 'removed' || state === 'refused' || state === 'replaced')
      sessionStorage.removeItem(linkStorageKey);
    if (state === 'expired') return showStep('step-expired');
    const ending = endings[state];
    if (ending) {
      byId('ended-title').textContent = ending.title;
      byId('ended-text').textContent = ending.text;
    }
    showStep('step-ended');
  });
  client.on('state', (state) => {
    if (state === 'waiting') showStep('step-waiting');
    if (state === 'in-call' && byId('step-call').hidden) showStep('step-call');
  });
}

byId('join').addEventListener('click', join);
byId('retry').addEventListener('click', () => void checkDevices());
if (token) void checkDevices();
else showStep('step-expired');
