import { io as connect } from 'socket.io-client';
import { StaffLive, type QueueChange } from '@gpc/contracts';
import type { TestLifetime } from './lifetime';

/**
 * A staff dashboard's live connection to triage at `url`, signed in with `token`: resolves, once
 * connected, to the queue changes it hears from then on (rejects with the refusal). Closed when `t`
 * ends. `reconnectWhenAsked`: reconnects when triage asks it to, as the web dashboard does.
 */
export async function openDashboard(
  t: TestLifetime,
  url: string,
  token: string,
  options: { reconnectWhenAsked?: true } = {},
): Promise<QueueChange[]> {
  const socket = connect(`${url}${StaffLive.namespace}`, {
    path: StaffLive.path,
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
  });
  t.after(() => socket.disconnect());
  const changes: QueueChange[] = [];
  socket.on('queue:changed', (change: QueueChange) => changes.push(change));
  if (options.reconnectWhenAsked) {
    socket.on('disconnect', (reason) => {
      if (reason === 'io server disconnect') socket.connect();
    });
  }
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', (error) => reject(new Error(error.message)));
  });
  return changes;
}
