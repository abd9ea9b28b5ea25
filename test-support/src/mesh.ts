// MESH for tests: the local MESH stand-in and the simulated GP system polling its mailbox on it,
// each on a free port, taken down at the end of the test (in either order: the GP system stops
// polling when it closes, and a poll that finds MESH gone is only logged).
import type { RunningGpInbox } from '@gpc/local-gp-inbox';
import type { RunningLocalMesh } from '@gpc/local-mesh-server';
import type { MeshMailbox } from '@gpc/local-mesh-server';
import { cleanupStack, type TestLifetime } from './lifetime';

export type { RunningGpInbox, RunningLocalMesh };

/**
 * The MESH stand-in with the default mailboxes (`SERVICE_MAILBOX` GPCONSULT01 receiving acks,
 * `GP_MAILBOX` A81002GP01 receiving GPFED_CONSULT_REPORT, `OTHER_GP_MAILBOX` registered for
 * nothing, so a report sent there comes back as a non-delivery REPORT), or the ones given.
 * `mesh.credentials(mailboxId)` gives a `createMeshClient` config (add `outbound: { allowLoopbackHttp: true }`);
 * `mesh.stop()`/`mesh.start()` take it down and back on the same port with its messages;
 * `PUT {url}/messageexchange/admin/fault {"status":503}` makes it answer 503 until `{"status":null}`.
 */
export async function startMeshServer(
  t: TestLifetime,
  options: { mailboxes?: MeshMailbox[]; sharedKey?: string; dataFile?: string } = {},
): Promise<RunningLocalMesh> {
  const { startLocalMesh } = await import('@gpc/local-mesh-server');
  const mesh = await startLocalMesh(options);
  t.after(() => mesh.close());
  return mesh;
}

/** NHS numbers the simulated GP system knows, from the local PDS's synthetic patients. */
export const gpInboxPatients = {
  /** Registered at the practice: 30001. */
  registered: [
    '9434765919',
    '9000000009',
    '9000000017',
    '9000000025',
    '9000000165',
    '9000001056',
    '9000000068',
    '9000000076',
    '9000000084',
  ],
  /** Registered, recently deceased: 30004. */
  deceased: ['9000000092'],
  /** Registered elsewhere: 30002. */
  notRegistered: ['9000000041', '9000000033'],
} as const;

/**
 * The simulated GP system polling `mailboxId` (GP_MAILBOX unless given) on `mesh` every 200 ms
 * (`poll: false`: only when the test calls `gp.inbox.pollOnce()`). Its documents at `gp.url`;
 * fault switches with `gp.inbox.setFaults({ noAck, noBusinessAck, infrastructureCode: '20009',
 * businessCode: '30002', delayMs })` or `PUT {gp.url}/admin/faults`.
 */
export async function startGpInbox(
  t: TestLifetime,
  mesh: RunningLocalMesh,
  options: {
    mailboxId?: string;
    odsCode?: string;
    registeredPatients?: readonly string[];
    deceasedPatients?: readonly string[];
    poll?: boolean;
    pollIntervalMs?: number;
  } = {},
): Promise<RunningGpInbox> {
  const { startLocalGpInbox } = await import('@gpc/local-gp-inbox');
  const { GP_MAILBOX } = await import('@gpc/local-mesh-server');
  const stack = cleanupStack(t);
  const deceased = options.deceasedPatients ?? gpInboxPatients.deceased;
  const gp = await startLocalGpInbox({
    mesh: mesh.credentials(options.mailboxId ?? GP_MAILBOX),
    odsCode: options.odsCode ?? 'A81002',
    registeredPatients: [...(options.registeredPatients ?? gpInboxPatients.registered), ...deceased],
    deceasedPatients: deceased,
    poll: options.poll,
    pollIntervalMs: options.pollIntervalMs,
  });
  stack.after(() => gp.close());
  return gp;
}
