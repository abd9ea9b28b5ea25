import { byId } from '../shared/nhsuk';
import type { CallClient } from './call-client';

/**
 * The poor-connection notice: shown while the SFU finds the path to this page poor, with the choice
 * of audio only (no video either way, so the sound keeps going); gone once the connection is good
 * again, unless audio only is on, when it says video can come back. The call goes on either way.
 */
export function bindConnectionNotice(client: CallClient): void {
  const notice = byId('poor-connection');
  const title = byId('poor-connection-title');
  const text = byId('poor-connection-text');
  const button = byId<HTMLButtonElement>('audio-only');
  const tiles = byId('remote-tiles');
  let poor = false;
  let audioOnly = false;
  const render = () => {
    notice.hidden = !poor && !audioOnly;
    title.textContent = poor ? 'Your connection is poor' : 'Your connection is better now';
    text.textContent = poor
      ? 'Video may freeze or break up. Switch to audio only to keep talking clearly.'
      : 'You can turn video back on.';
    button.textContent = audioOnly ? 'Turn video back on' : 'Switch to audio only';
    button.setAttribute('aria-pressed', String(audioOnly));
    // paused video would show its last picture frozen: the tiles show names only
    tiles.classList.toggle('gpc-tiles--audio-only', audioOnly);
  };
  client.on('connectionQuality', ({ quality }) => {
    poor = quality === 'poor';
    render();
  });
  client.on('state', (state) => {
    // a rejoin starts the media afresh on the server: audio only is asked for again
    if (state === 'in-call' && audioOnly) void client.setAudioOnly(true).catch(() => undefined);
  });
  button.addEventListener('click', () => {
    audioOnly = !audioOnly;
    render();
    void client.setAudioOnly(audioOnly).catch(() => {
      audioOnly = !audioOnly;
      render();
    });
  });
}
