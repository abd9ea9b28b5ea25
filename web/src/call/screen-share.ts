// Screen sharing on the call pages: the clinician shows a leaflet or an image (getDisplayMedia), and
// every other page shows that screen large above the call's tiles until the sharing stops.
import { byId, element } from '../shared/nhsuk';
import type { CallClient } from './call-client';

/** A screen someone in the call shares, shown large; the usual layout comes back when it ends. */
export function bindSharedScreen(client: CallClient): void {
  const call = byId('remote-tiles').parentElement!;
  const names = new Map<string, string>();
  let shown: { track: MediaStreamTrack; figure: HTMLElement } | undefined;
  const hide = () => {
    shown?.figure.remove();
    shown = undefined;
    call.classList.remove('gpc-call--screen');
  };
  client.on('participants', (participants) => {
    for (const { participantId, name } of participants) names.set(participantId, name);
  });
  client.on('remoteTrack', ({ participantId, track, source }) => {
    if (source !== 'screen') return;
    hide();
    const figure = element('figure', { id: 'shared-screen', class: 'gpc-screen' });
    const video = element('video', {
      class: 'gpc-screen__video',
      'aria-label': `${names.get(participantId) ?? 'Your GP surgery'}'s shared screen`,
    });
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true;
    video.srcObject = new MediaStream([track]);
    figure.append(
      video,
      element('figcaption', {}, `${names.get(participantId) ?? ''} is sharing their screen`),
    );
    call.prepend(figure);
    call.classList.add('gpc-call--screen');
    shown = { track, figure };
    void video.play().catch(() => undefined);
  });
  client.on('remoteTrackEnded', ({ track }) => {
    if (shown?.track === track) hide();
  });
}

/**
 * The clinician's Share screen button: the browser asks which window or tab, and it is
 * shared until Stop sharing, or the browser's own stop. Hidden where browsers cannot share (phones).
 */
export function bindShareButton(client: CallClient): void {
  const share = byId<HTMLButtonElement>('share-screen');
  if (typeof navigator.mediaDevices?.getDisplayMedia !== 'function') return;
  share.hidden = false;
  // said once in words too, for whoever cannot see the button change
  const status = element('p', { class: 'nhsuk-body-s', role: 'status' });
  share.parentElement!.after(status);
  client.on('sharing', (sharing) => {
    share.textContent = sharing ? 'Stop sharing' : 'Share screen';
    share.setAttribute('aria-pressed', String(sharing));
    status.textContent = sharing ? 'You are sharing your screen with everyone in the call.' : '';
  });
  share.addEventListener('click', () => {
    if (client.sharing) return void client.stopSharing();
    // asked inside the click: browsers offer the choice only for a person's own action. A window or
    // a tab, not a whole screen, which could show another patient's record or a notification
    const choice = {
      video: true,
      audio: false,
      monitorTypeSurfaces: 'exclude',
      selfBrowserSurface: 'exclude',
    };
    navigator.mediaDevices.getDisplayMedia(choice as DisplayMediaStreamOptions).then(
      (stream) => {
        const track = stream.getVideoTracks()[0];
        if (track)
          client
            .shareScreen(track)
            .catch((error: unknown) => console.warn('could not share the screen', error));
      },
      // cancelled in the browser's chooser: nothing to do
      (error: unknown) => console.info('screen not shared', error),
    );
  });
}
