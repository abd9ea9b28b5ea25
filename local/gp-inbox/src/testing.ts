import type { AddressInfo } from 'node:net';
import type { MeshClientConfig } from '@gpc/record/mesh';
import { createGpInbox, type GpInbox, type GpInboxOptions } from './app';

export interface RunningGpInbox {
  /** e.g. http://127.0.0.1:41235: the list of documents; /documents/{MESH id}.json and .pdf. */
  url: string;
  inbox: GpInbox;
  close(): Promise<void>;
}

/**
 * The simulated GP system on a free port of 127.0.0.1, polling `mesh` (loopback http allowed) every
 * `pollIntervalMs` (200 ms unless given; `poll: false` to poll only when a test calls `pollOnce`).
 */
export async function startLocalGpInbox(
  options: Omit<GpInboxOptions, 'mesh'> & { mesh: MeshClientConfig; poll?: boolean },
): Promise<RunningGpInbox> {
  const inbox = createGpInbox({
    pollIntervalMs: 200,
    ...options,
    mesh: { outbound: { allowLoopbackHttp: true }, timeoutMs: 10_000, ...options.mesh },
  });
  await new Promise<void>((resolve) => inbox.server.listen(0, '127.0.0.1', resolve));
  if (options.poll !== false) inbox.start();
  return {
    url: `http://127.0.0.1:${(inbox.server.address() as AddressInfo).port}`,
    inbox,
    close: () => inbox.close(),
  };
}
