import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createMeshServer, type MeshServer, type MeshServerOptions } from './app';
import type { MeshMailbox } from './config';

/** The development and test mailboxes: ours (the service's), and two GP practices'. */
export const SERVICE_MAILBOX = 'GPCONSULT01';
export const GP_MAILBOX = 'A81002GP01';
export const OTHER_GP_MAILBOX = 'B82002GP01';
export const SEND_DOCUMENT_WORKFLOW = 'GPFED_CONSULT_REPORT';
export const SEND_DOCUMENT_ACK_WORKFLOW = 'GPFED_CONSULT_REPORT_ACK';

export function defaultMailboxes(password = () => randomBytes(12).toString('base64url')): MeshMailbox[] {
  return [
    {
      mailboxId: SERVICE_MAILBOX,
      password: password(),
      name: 'GP Consult',
      workflows: [SEND_DOCUMENT_ACK_WORKFLOW],
    },
    {
      mailboxId: GP_MAILBOX,
      password: password(),
      name: 'Riverside GP system (simulated)',
      odsCode: 'A81002',
      workflows: [SEND_DOCUMENT_WORKFLOW],
    },
    // a practice that has not registered for online consultation reports: a report sent there comes back undelivered
    {
      mailboxId: OTHER_GP_MAILBOX,
      password: password(),
      name: 'Hillside GP system',
      odsCode: 'B82002',
      workflows: [],
    },
  ];
}

export interface RunningLocalMesh {
  /** e.g. http://127.0.0.1:41234 (the client adds /messageexchange/...). */
  url: string;
  sharedKey: string;
  mailboxes: MeshMailbox[];
  /** A mailbox's credentials, ready for `createMeshClient`. */
  credentials(mailboxId: string): { url: string; mailboxId: string; password: string; sharedKey: string };
  mesh: MeshServer;
  /** Stops listening (connections refused), keeping every message; `start` listens on the same port again. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The MESH stand-in on a free port of 127.0.0.1, for tests. */
export async function startLocalMesh(
  options: Partial<MeshServerOptions> & { port?: number } = {},
): Promise<RunningLocalMesh> {
  const sharedKey = options.sharedKey ?? `test-${randomBytes(8).toString('hex')}`;
  const mailboxes = [...(options.mailboxes ?? defaultMailboxes())];
  let mesh = createMeshServer({ ...options, sharedKey, mailboxes });
  const store = mesh.store;
  await new Promise<void>((resolve) => mesh.server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (mesh.server.address() as AddressInfo).port;
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const running: RunningLocalMesh = {
    url,
    sharedKey,
    mailboxes,
    credentials(mailboxId) {
      const mailbox = mailboxes.find((m) => m.mailboxId === mailboxId);
      if (!mailbox) throw new Error(`no mailbox ${mailboxId}`);
      return { url, mailboxId, password: mailbox.password, sharedKey };
    },
    get mesh() {
      return mesh;
    },
    async stop() {
      await mesh.close();
    },
    async start() {
      if (mesh.server.listening) return;
      // the same messages: a restarted MESH still has what it had
      mesh = createMeshServer({ ...options, sharedKey, mailboxes, store });
      await new Promise<void>((resolve, reject) => {
        mesh.server.once('error', reject);
        mesh.server.listen(port, '127.0.0.1', () => resolve());
      });
    },
    close: () => mesh.close(),
  };
  return running;
}
