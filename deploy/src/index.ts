// What the deployment files (compose.yaml, kubernetes/) may name, in one place: the images this
// repository builds (one per service) and the few third-party images run beside them. The images
// part of issue 15 builds exactly `serviceImages`; deploy/test checks nothing else is named.

/** One image per service, its repository name as the deployment files give it (tag aside). */
export interface ServiceImage {
  /** e.g. `gpc/triage` */
  readonly name: string;
  /** The workspace it runs. */
  readonly workspace: 'triage' | 'signalling' | 'record' | 'web';
  /** Its configuration's environment prefix (TRIAGE_, SIGNALLING_...). */
  readonly envPrefix: 'TRIAGE' | 'SIGNALLING' | 'RECORD' | 'WEB';
  /** The entry file its default command runs, relative to the image's working directory (the repo layout). */
  readonly entry: string;
}

export const serviceImages = [
  { name: 'gpc/triage', workspace: 'triage', envPrefix: 'TRIAGE', entry: 'triage/src/server.ts' },
  // the call node: signalling with the mediasoup SFU (and its worker binary) in one process
  {
    name: 'gpc/call-node',
    workspace: 'signalling',
    envPrefix: 'SIGNALLING',
    entry: 'signalling/src/server.ts',
  },
  { name: 'gpc/record', workspace: 'record', envPrefix: 'RECORD', entry: 'record/src/server.ts' },
  // the production server of the built pages, never vite's development server
  { name: 'gpc/web', workspace: 'web', envPrefix: 'WEB', entry: 'web/src/static-server.ts' },
] as const satisfies readonly ServiceImage[];

export type ServiceImageName = (typeof serviceImages)[number]['name'];

/**
 * The user every gpc/* image runs as (its USER), and the Kubernetes pods' runAsUser: files the
 * service reads must be readable by it, and it owns nothing it could rewrite (read-only root).
 */
export const imageUser = 10001;

/**
 * The migration Job's command in the triage image: applies the migrations and exits
 * (triage/src/migrate.ts), run before a new version's pods.
 */
export const migrateCommand = ['node', '--import', 'tsx', 'triage/src/migrate.ts'] as const;

/** Third-party images, pinned: pulled from their registries, not built here. */
export const thirdPartyImages = [
  'docker.io/library/postgres:16-bookworm',
  'docker.io/library/redis:7.4-bookworm',
  'quay.io/minio/minio:RELEASE.2024-10-29T16-01-48Z',
  'quay.io/minio/mc:RELEASE.2024-10-29T15-34-59Z',
  'docker.io/coturn/coturn:4.6.3',
  // compose's edge: the host's 443 split by TLS SNI between coturn and the host's reverse proxy
  'docker.io/library/nginx:1.27.3-bookworm',
] as const;

/**
 * The ConfigMap each call node and coturn read their node's public address from, by node name (one
 * file per node where it is mounted): the address a node knows itself by is often a private one.
 */
export const nodePublicAddresses = {
  name: 'node-public-addresses',
  mountPath: '/etc/gp-consult/node-public-addresses',
} as const;

/** The repository part of an image reference: `gpc/triage:1.2.3` -> `gpc/triage`. */
export function imageRepository(reference: string): string {
  const withoutDigest = reference.split('@')[0] ?? reference;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
}

/**
 * The Secret the Kubernetes manifests take every credential from, and its keys: created by the
 * hosting team (deploy/kubernetes/base/kustomization.yaml says how), never held in this repository.
 */
export const clusterSecret = {
  name: 'gp-consult',
  keys: [
    'database-url',
    'redis-url',
    'signing-keys',
    'secrets-keys',
    'secrets-current-kid',
    's3-access-key-id',
    's3-secret-access-key',
    'turn-shared-secret',
    // call data: the call nodes' private Ed25519 JWK they sign their posts to triage with, and the
    // public halves triage checks them against (a JWK set)
    'call-node-key',
    'call-node-public-keys',
    // the bearer token Prometheus scrapes every service's /metrics with (<PREFIX>_METRICS_TOKEN)
    'metrics-token',
  ],
} as const;
