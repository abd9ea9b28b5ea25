// MESH for `npm start`: the local MESH stand-in (our mailbox and a GP practice's), and the simulated
// GP system polling the practice's mailbox. Passwords and the shared key are made once per checkout
// and kept in the state folder; the stand-in keeps its messages there too, across restarts.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ServiceSpec } from './services';
import type { LocalSettings } from './settings';

const host = '127.0.0.1';

/** Our mailbox (acknowledgements come back to it), the development GP practice's, and one registered for nothing. */
export const devMeshMailboxes = {
  service: 'GPCONSULT01',
  gp: 'A81002GP01',
  unregistered: 'B82002GP01',
} as const;
/** The development practice that files by GP Connect Send Document, and its simulated GP system. */
export const devMeshPracticeOdsCode = 'A81002';

/**
 * Who the simulated GP system has registered (the local PDS's synthetic patients, local/pds-server/src/seed.ts):
 * a report about them is filed (30001); Morgan PRICE is recorded deceased (30004); anyone else, such as
 * the Jane SMITH registered elsewhere (900 000 0041), comes back "patient not registered here" (30002).
 */
const registeredPatients = [
  '9434765919',
  '9000000009',
  '9000000017',
  '9000000025',
  '9000000165',
  '9000001056',
  '9000000068',
  '9000000076',
  '9000000084',
  '9000000092',
  // Asha KHAN, registered at A81002; Tom BAKER (9000000149) is registered there by PDS but not here: 30002
  '9000000130',
];
const deceasedPatients = ['9000000092'];

interface DevMesh {
  sharedKey: string;
  passwords: Record<string, string>;
  mailboxesFile: string;
}

/** The development MESH secrets, made once; the stand-in's mailboxes file written from them. */
export function devMesh(stateDir: string): DevMesh {
  const file = path.join(stateDir, 'mesh-dev.json');
  const mailboxesFile = path.join(stateDir, 'mesh-mailboxes.json');
  let saved = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Omit<DevMesh, 'mailboxesFile'>)
    : undefined;
  if (!saved) {
    const secret = () => randomBytes(12).toString('base64url');
    saved = {
      sharedKey: secret(),
      passwords: Object.fromEntries(Object.values(devMeshMailboxes).map((id) => [id, secret()])),
    };
    writeFileSync(file, JSON.stringify(saved), { mode: 0o600 });
  }
  const mailboxes = [
    { mailboxId: devMeshMailboxes.service, name: 'GP Consult', workflows: ['GPFED_CONSULT_REPORT_ACK'] },
    {
      mailboxId: devMeshMailboxes.gp,
      name: 'Simulated GP system',
      odsCode: devMeshPracticeOdsCode,
      workflows: ['GPFED_CONSULT_REPORT'],
      gpProviderFor: registeredPatients,
    },
    {
      mailboxId: devMeshMailboxes.unregistered,
      name: 'A GP system not taking reports',
      odsCode: 'B82002',
      workflows: [],
    },
  ].map((mailbox) => ({ ...mailbox, password: saved.passwords[mailbox.mailboxId]! }));
  writeFileSync(mailboxesFile, JSON.stringify(mailboxes, null, 2), { mode: 0o600 });
  return { ...saved, mailboxesFile };
}

export const meshUrl = (settings: LocalSettings) => `http://${host}:${settings.meshPort}`;
export const gpInboxUrl = (settings: LocalSettings) => `http://${host}:${settings.gpInboxPort}/`;

/** The MESH stand-in and the simulated GP system, as `npm start` runs them. */
export function meshSpecs(settings: LocalSettings): ServiceSpec[] {
  const mesh = devMesh(settings.stateDir);
  return [
    {
      name: 'mesh',
      entry: 'local/mesh-server/src/server.ts',
      env: {
        MESH_HOST: host,
        MESH_PORT: String(settings.meshPort),
        MESH_SHARED_KEY: mesh.sharedKey,
        MESH_MAILBOXES_FILE: mesh.mailboxesFile,
        MESH_DATA_FILE: path.join(settings.stateDir, 'mesh', 'messages.json'),
      },
      readyUrl: `${meshUrl(settings)}/messageexchange/_ping`,
    },
    {
      name: 'gp-inbox',
      entry: 'local/gp-inbox/src/server.ts',
      env: {
        GP_INBOX_HOST: host,
        GP_INBOX_PORT: String(settings.gpInboxPort),
        GP_INBOX_MESH_URL: meshUrl(settings),
        GP_INBOX_MAILBOX_ID: devMeshMailboxes.gp,
        GP_INBOX_PASSWORD: mesh.passwords[devMeshMailboxes.gp]!,
        GP_INBOX_SHARED_KEY: mesh.sharedKey,
        GP_INBOX_OUTBOUND_ALLOW_LOOPBACK_HTTP: 'true',
        GP_INBOX_ODS_CODE: devMeshPracticeOdsCode,
        GP_INBOX_REGISTERED_PATIENTS: registeredPatients.join(','),
        GP_INBOX_DECEASED_PATIENTS: deceasedPatients.join(','),
        GP_INBOX_POLL_INTERVAL_MS: '2000',
        GP_INBOX_DATA_FILE: path.join(settings.stateDir, 'gp-inbox', 'documents.json'),
      },
      readyUrl: `http://${host}:${settings.gpInboxPort}/health`,
    },
  ];
}

/** The record worker's MESH mailbox (ours) on the stand-in. */
export function localMeshEnv(settings: LocalSettings): Record<string, string> {
  const mesh = devMesh(settings.stateDir);
  return {
    RECORD_MESH_URL: meshUrl(settings),
    RECORD_MESH_MAILBOX_ID: devMeshMailboxes.service,
    RECORD_MESH_PASSWORD: mesh.passwords[devMeshMailboxes.service]!,
    RECORD_MESH_SHARED_KEY: mesh.sharedKey,
    // a developer wants to see the acknowledgements arrive, not wait half a minute
    RECORD_MESH_POLL_INTERVAL_MS: '2000',
  };
}
