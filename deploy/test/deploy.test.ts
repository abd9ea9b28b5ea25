import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { Type, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigMap, Namespace, Service } from 'kubernetes-models/v1';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import { callNodeIdPattern, envName, loadConfig, s3Settings, type CallNodeStatus } from '@gpc/contracts';
// each service's config module itself, not its package's index, which loads the whole service
// (fastify, sharp, the AWS SDK...): about 8 s of imports against 0.5 s on 2 busy cores
import { TriageConfigSchema } from '../../triage/src/config';
import { SignallingConfigSchema, turnSettings, type SignallingConfig } from '../../signalling/src/config';
import { RecordConfigSchema } from '../../record/src/config';
import { WebConfigSchema } from '../../web/src/config';
import { createStaticServer } from '../../web/src/static-app';
import { callNodeRoute } from '../../web/src/call-nodes';
import { reachableFrom } from '../../triage/src/calls/placement';
import {
  clusterSecret,
  imageRepository,
  imageUser,
  migrateCommand,
  nodePublicAddresses,
  serviceImages,
  thirdPartyImages,
  type ServiceImage,
} from '../src/index';

const run = promisify(execFile);
const deployDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Each service's configuration schema, by the environment prefix its image runs with. */
const configSchemas: Record<ServiceImage['envPrefix'], TObject> = {
  TRIAGE: TriageConfigSchema,
  SIGNALLING: SignallingConfigSchema,
  RECORD: RecordConfigSchema,
  WEB: WebConfigSchema,
};

/** Names that carry credentials: their values must come from outside the repository. */
const secretName = /PASSWORD|SECRET|SIGNING_KEYS|SECRETS_KEYS|ACCESS_KEY_ID|DATABASE_URL|REDIS_URL/;

function serviceImageOf(reference: string): ServiceImage | undefined {
  return serviceImages.find((image) => image.name === imageRepository(reference));
}

function assertKnownImage(reference: string, where: string): void {
  const known = serviceImageOf(reference) ?? thirdPartyImages.find((image) => image === reference);
  assert.ok(
    known,
    `${where}: image ${reference} is neither built here (deploy/src) nor a pinned third-party one`,
  );
}

/**
 * Loads `env` (every value given, placeholders for what comes from outside) with the service's own
 * schema, as it would at boot: every name must be one it reads, every value of its type, nothing
 * required missing. Returns the loaded configuration.
 */
function loadWith(prefix: ServiceImage['envPrefix'], env: Record<string, string>, where: string) {
  const schema = configSchemas[prefix];
  const known = new Set(Object.keys(schema.properties).map((key) => envName(prefix, key)));
  for (const name of Object.keys(env)) {
    assert.ok(known.has(name), `${where}: ${name} is not a variable ${prefix.toLowerCase()} reads`);
  }
  try {
    return loadConfig(schema, prefix, env) as Record<string, unknown>;
  } catch (error) {
    assert.fail(`${where}: ${(error as Error).message}`);
  }
}

/**
 * The origin of the upload URLs triage presigns with this configuration: its own attachment store
 * (the AWS SDK's presigner), as it answers a patient's upload grant.
 */
async function presignedUploadOrigin(triage: Record<string, unknown>): Promise<string> {
  // loaded here only: the store brings sharp and the AWS SDK (about a second of imports)
  const { AttachmentStore } = await import('../../triage/src/attachments/store');
  const store = new AttachmentStore(s3Settings(triage as Parameters<typeof s3Settings>[0]));
  return new URL(await store.uploadUrl('uploads/practice/upload', 'image/png', 1024)).origin;
}

/**
 * The origins besides its own a page may send requests to (connect-src), as web's production server
 * with this configuration serves a page: where the patient's browser may PUT an attachment.
 */
async function pageConnectOrigins(web: Record<string, unknown>): Promise<string[]> {
  const distDir = mkdtempSync(path.join(tmpdir(), 'gpc-deploy-dist-'));
  writeFileSync(path.join(distDir, 'index.html'), '<!doctype html><title>GP Consult</title>');
  const server = createStaticServer({
    distDir,
    triageUrl: web.triageUrl as string,
    signallingUrl: web.signallingUrl as string,
    publicUrl: web.publicUrl as string,
    ...(web.storageUrl ? { storageUrl: web.storageUrl as string } : {}),
  });
  try {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/`);
    await response.arrayBuffer();
    const policy = response.headers.get('content-security-policy') ?? '';
    const connect = policy
      .split(';')
      .map((directive) => directive.trim().split(/\s+/))
      .find(([name]) => name === 'connect-src');
    assert.ok(connect, `the page's policy has a connect-src: ${policy}`);
    return connect.slice(1).filter((source) => source !== "'self'");
  } finally {
    await new Promise((resolve) => server.close(resolve));
    rmSync(distDir, { recursive: true, force: true });
  }
}

/**
 * Runs a container's shell `command` (sh -ec script ...) as its image would, on a node named
 * `nodeName` whose ConfigMap `addresses` is mounted where the container's NODE_PUBLIC_ADDRESSES says,
 * with the program it ends by exec'ing (`node`, `turnserver`) replaced by one that prints the
 * announced address and its arguments. Returns what it printed, or the failure.
 */
async function runEntry(
  container: IContainer,
  nodeName: string,
  addresses: Record<string, string>,
): Promise<{ ok: true; stdout: string } | { ok: false; stderr: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gpc-deploy-entry-'));
  try {
    const mounted = path.join(dir, 'addresses');
    const bin = path.join(dir, 'bin');
    mkdirSync(mounted);
    mkdirSync(bin);
    for (const [node, address] of Object.entries(addresses)) writeFileSync(path.join(mounted, node), address);
    for (const program of ['node', 'turnserver']) {
      const file = path.join(bin, program);
      writeFileSync(file, `#!/bin/sh\necho "announced=\${SIGNALLING_RTC_ANNOUNCED_ADDRESS:-} args=$*"\n`);
      chmodSync(file, 0o755);
    }
    const [shell, ...rest] = [...(container.command ?? []), ...(container.args ?? [])];
    assert.equal(shell, 'sh', 'the command is a shell script');
    const { stdout } = await run('/bin/sh', rest, {
      env: { PATH: `${bin}:/usr/bin:/bin`, NODE_NAME: nodeName, NODE_PUBLIC_ADDRESSES: mounted },
    });
    return { ok: true, stdout };
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return { ok: false, stderr: String((error as { stderr?: string }).stderr ?? error) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Not an address a browser on the internet could send media to. */
function isPrivateAddress(address: string): boolean {
  const [a = 0, b = 0] = address.split('.').map(Number);
  return (
    isIP(address) === 4 &&
    (a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254))
  );
}

/**
 * Checks the configurations of triage, a call node and web run call placement together (README
 * "Several call nodes"): triage places calls; the node has an id of the allowed shape and announces
 * a public URL whose path is `/call-node/<its id>` (so web's route takes the pages' socket.io there
 * to that id) on the origin triage's pages are on, and web's too (so triage places calls on it, and
 * the pages' `connect-src 'self'` holds); web reads the announcements from Redis. Returns the node's
 * internal URL, whose reach from web each deployment checks its own way.
 */
function assertPlacement(
  triage: Record<string, unknown>,
  node: Record<string, unknown>,
  web: Record<string, unknown>,
  where: string,
): URL {
  assert.equal(triage.callPlacement, true, `${where}: triage places calls (TRIAGE_CALL_PLACEMENT)`);
  const id = node.nodeId as string | undefined;
  assert.ok(id, `${where}: the call node is named (SIGNALLING_NODE_ID)`);
  assert.match(id, new RegExp(callNodeIdPattern), `${where}: ${id} is a node id signalling takes`);
  const publicUrl = node.publicUrl as string | undefined;
  assert.ok(publicUrl, `${where}: the call node announces itself (SIGNALLING_PUBLIC_URL)`);
  const url = new URL(publicUrl);
  assert.equal(url.pathname.replace(/\/$/, ''), `/call-node/${id}`, `${where}: ${publicUrl} is its own path`);
  assert.equal(
    callNodeRoute(`${url.pathname.replace(/\/$/, '')}/socket.io/`)?.nodeId,
    id,
    `${where}: web routes the pages' socket.io at ${publicUrl} to ${id}`,
  );
  const site = new URL(triage.publicWebUrl as string).origin;
  assert.equal(url.origin, site, `${where}: the node's public URL is on triage's public web origin`);
  assert.equal(new URL(web.publicUrl as string).origin, site, `${where}: and web's`);
  const status = { id, url: publicUrl } as CallNodeStatus;
  assert.deepEqual(
    reachableFrom(triage.publicWebUrl as string, [status]).map((n) => n.id),
    [id],
    `${where}: triage places calls on it`,
  );
  assert.ok(web.redisUrl, `${where}: web reads the nodes' announcements (WEB_REDIS_URL)`);
  const internal = node.internalUrl as string | undefined;
  assert.ok(internal, `${where}: the node says where web reaches it (SIGNALLING_INTERNAL_URL)`);
  const reach = new URL(internal);
  assert.equal(reach.protocol, 'http:', `${where}: web passes on to plain http`);
  assert.equal(Number(reach.port), node.port, `${where}: on the port the node listens on`);
  return reach;
}

// ---------------------------------------------------------------------------------------------------
// compose.yaml

const Healthcheck = Type.Object(
  {
    test: Type.Array(Type.String(), { minItems: 2 }),
    interval: Type.Optional(Type.String()),
    timeout: Type.Optional(Type.String()),
    retries: Type.Optional(Type.Integer()),
    start_period: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** The part of the Compose Specification this file uses; a misspelt key is an error, not ignored. */
const ComposeService = Type.Object(
  {
    image: Type.String(),
    restart: Type.Optional(
      Type.Union(['no', 'always', 'on-failure', 'unless-stopped'].map((v) => Type.Literal(v))),
    ),
    command: Type.Optional(Type.Array(Type.String())),
    entrypoint: Type.Optional(Type.Array(Type.String())),
    environment: Type.Optional(Type.Record(Type.String(), Type.String())),
    // a host port is a number, or one the environment may change: `${NAME:-default}`
    ports: Type.Optional(
      Type.Array(
        Type.String({ pattern: '^(127\\.0\\.0\\.1:)?(\\d+|\\$\\{[A-Z0-9_]+:-\\d+\\}):\\d+(/(tcp|udp))?$' }),
      ),
    ),
    expose: Type.Optional(Type.Array(Type.String({ pattern: '^\\d+$' }))),
    volumes: Type.Optional(Type.Array(Type.String())),
    depends_on: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object({
          condition: Type.Union(
            ['service_started', 'service_healthy', 'service_completed_successfully'].map((v) =>
              Type.Literal(v),
            ),
          ),
        }),
      ),
    ),
    healthcheck: Type.Optional(Healthcheck),
    network_mode: Type.Optional(Type.Literal('host')),
    extra_hosts: Type.Optional(Type.Array(Type.String())),
    stop_grace_period: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const ComposeFile = Type.Object(
  {
    name: Type.String(),
    services: Type.Record(Type.String(), ComposeService),
    volumes: Type.Optional(Type.Record(Type.String(), Type.Null())),
  },
  { additionalProperties: false },
);
interface ComposeServiceShape {
  image: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  depends_on?: Record<string, unknown>;
  healthcheck?: { test: string[] };
  network_mode?: 'host';
}

/**
 * A value as compose would give it: `${NAME:-default}` its default, and each other `${NAME...}` from
 * outside a stand-in of its own (`GPC_STORAGE_HOST` -> `gpc-storage-host`), the same wherever it is used.
 */
const interpolated = (value: string) =>
  value.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*)|:\?[^}]*)?\}/g, (_, name: string, fallback?: string) =>
    fallback !== undefined ? fallback : name.toLowerCase().replaceAll('_', '-'),
  );

/** The names compose reads from the environment or deploy/.env, wherever in the file. */
const variablesIn = (text: string) => new Set([...text.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!));

describe('deploy/compose.yaml for a single host', () => {
  const compose = parse(readFileSync(path.join(deployDir, 'compose.yaml'), 'utf8')) as unknown;
  const services = () => (compose as { services: Record<string, ComposeServiceShape> }).services;

  it('has the shape of a Compose file, with a key compose knows wherever one is given', () => {
    const problems = [...Value.Errors(ComposeFile, compose)].map((e) => `${e.path}: ${e.message}`);
    assert.deepEqual(problems, []);
    for (const [name, service] of Object.entries(services())) {
      for (const dependency of Object.keys(service.depends_on ?? {}))
        assert.ok(dependency in services(), `${name} depends on ${dependency}, which is not a service`);
    }
  });

  it('runs every service from the image built for it, and only images built here or pinned', () => {
    for (const [name, service] of Object.entries(services())) assertKnownImage(service.image, name);
    const used = Object.values(services()).map((service) => imageRepository(service.image));
    for (const image of serviceImages) assert.ok(used.includes(image.name), `no service runs ${image.name}`);
  });

  it('gives each service only variables its configuration reads, each of its type, on the ports and health URLs it listens on', () => {
    for (const [name, service] of Object.entries(services())) {
      const image = serviceImageOf(service.image);
      if (!image) continue;
      const env = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([key, value]) => [key, interpolated(value)]),
      );
      const config = loadWith(image.envPrefix, env, name);
      const port = config.port as number;
      const published = [...(service.ports ?? []), ...(service.expose ?? [])].map((p) =>
        Number(p.split(':').at(-1)),
      );
      if (service.network_mode !== 'host')
        assert.deepEqual(published, [port], `${name} publishes its port ${port}`);
      const probe = service.healthcheck?.test.at(-1) ?? '';
      assert.equal(probe, `http://127.0.0.1:${port}/readyz`, `${name}'s health check asks its /readyz`);
      assert.equal(config.host, '0.0.0.0', `${name} listens beyond the container's loopback`);
    }
  });

  it('keeps every credential out of the file: each comes from the environment or deploy/.env', () => {
    const inline: string[] = [];
    for (const [name, service] of Object.entries(services())) {
      for (const [key, value] of Object.entries(service.environment ?? {}))
        if (secretName.test(key) && !value.includes('${')) inline.push(`${name}: ${key}`);
      for (const arg of service.command ?? [])
        if (/secret|password/i.test(arg) && arg.includes('=') && !arg.includes('${'))
          inline.push(`${name}: ${arg}`);
    }
    assert.deepEqual(inline, []);
    assert.ok(Object.values(services()).some((s) => s.environment?.TRIAGE_SIGNING_KEYS?.includes('${')));
  });

  it('runs Redis append-only with the settings the write-back queue needs, and the call node and TURN on the host’s network', () => {
    const redis = Object.values(services()).find((s) => s.image.includes('/redis:'));
    assert.ok(
      redis?.volumes?.some((v) => v.startsWith('./redis/redis.conf:')),
      'redis.conf is mounted',
    );
    assert.ok(
      redis?.command?.some((arg) => arg.endsWith('redis.conf')),
      'and given to redis-server',
    );
    assert.ok(
      redis?.volumes?.some((v) => v.endsWith(':/data')),
      'with its data on a volume',
    );
    const conf = readFileSync(path.join(deployDir, 'redis/redis.conf'), 'utf8');
    assert.match(conf, /^appendonly yes$/m);
    assert.match(conf, /^maxmemory-policy noeviction$/m);
    const callNode = Object.values(services()).find((s) => imageRepository(s.image) === 'gpc/call-node');
    assert.equal(callNode?.network_mode, 'host');
    const turn = Object.values(services()).find((s) => s.image.includes('coturn'));
    assert.equal(turn?.network_mode, 'host');
    assert.ok(turn?.command?.includes('--use-auth-secret'), 'TURN REST API credentials');
    const relaySecret = turn?.command?.find((arg) => arg.startsWith('--static-auth-secret='))?.split('=')[1];
    assert.ok(relaySecret, 'the relay has a shared secret');
    assert.equal(
      callNode?.environment?.SIGNALLING_TURN_SECRET,
      relaySecret,
      'the call node signs with the same',
    );
  });

  it('publishes no host port a PostgreSQL or Redis already on the host holds: PostgreSQL not at all, each other host port the environment’s, and the call node reaches Redis and triage where they are published', () => {
    const byImage = (part: string) => Object.values(services()).find((s) => s.image.includes(part))!;
    assert.deepEqual(byImage('/postgres:').ports ?? [], [], 'PostgreSQL is reached by name only');
    const hostPort = (service: ComposeServiceShape, containerPort: number) => {
      const published = (service.ports ?? []).find((p) => p.endsWith(`:${containerPort}`));
      assert.ok(published, `${service.image} publishes ${containerPort}`);
      return interpolated(published.split(':').slice(0, -1).join(':')).split(':').at(-1);
    };
    for (const [name, service] of Object.entries(services()))
      for (const published of service.ports ?? [])
        assert.match(published, /^127\.0\.0\.1:\$\{GPC_[A-Z_]+_HOST_PORT:-\d+\}:/, `${name}: ${published}`);
    const redisPort = hostPort(byImage('/redis:'), 6379);
    assert.notEqual(redisPort, '6379', 'not the port a Redis on the host listens on by default');
    const triagePort = hostPort(byImage('gpc/triage'), 3001);
    const callNode = Object.values(services()).find((s) => imageRepository(s.image) === 'gpc/call-node')!;
    const env = Object.fromEntries(
      Object.entries(callNode.environment ?? {}).map(([key, value]) => [key, interpolated(value)]),
    );
    assert.equal(new URL(env.SIGNALLING_REDIS_URL ?? '').port, redisPort, 'Redis where it is published');
    for (const key of ['SIGNALLING_JWKS_URL', 'SIGNALLING_CALL_EVENTS_URL'])
      assert.equal(new URL(env[key] ?? '').port, triagePort, `${key}: triage where it is published`);
  });

  it('offers TURN over TLS on 443: coturn’s TLS listener with its certificate by reference, the turns: URL participants get, and the host’s 443 passed to it by name', () => {
    const turn = Object.values(services()).find((s) => s.image.includes('coturn'))!;
    const option = (name: string) =>
      turn.command?.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
    const tlsPort = option('tls-listening-port');
    assert.ok(tlsPort, 'coturn has a TLS listener');
    const certificates = (turn.volumes ?? []).find((v) => /:\/etc\/coturn\/tls(:ro)?$/.test(v));
    assert.match(
      certificates ?? '',
      /^\$\{[A-Z_]+:\?[^}]*\}:\/etc\/coturn\/tls:ro$/,
      'by reference, read-only',
    );
    for (const file of [option('cert'), option('pkey')])
      assert.ok(file?.startsWith('/etc/coturn/tls/'), `${file}: from the mounted directory`);

    const callNode = Object.values(services()).find((s) => imageRepository(s.image) === 'gpc/call-node')!;
    const urls = interpolated(callNode.environment?.SIGNALLING_TURN_URLS ?? '').split(',');
    const tls = urls.map((url) => /^turns:([^:]+):443\?transport=tcp$/.exec(url)?.[1]).find(Boolean);
    assert.ok(tls, `a turns: URL on 443 among ${urls.join(', ')}`);

    // the host's 443: edge's nginx sends TLS naming the TURN host on to coturn's TLS port
    const edge = Object.values(services()).find((s) => s.image.includes('/nginx:'))!;
    assert.equal(edge.network_mode, 'host');
    const template = edge.volumes?.find((v) => v.endsWith(':/etc/nginx/templates/nginx.conf.template:ro'));
    assert.ok(template, 'its configuration is the template in deploy/edge');
    const edgeEnv = Object.fromEntries(
      Object.entries(edge.environment ?? {}).map(([key, value]) => [key, interpolated(value)]),
    );
    assert.equal(edgeEnv.NGINX_ENVSUBST_OUTPUT_DIR, '/etc/nginx', 'the template becomes nginx.conf itself');
    const conf = readFileSync(path.join(deployDir, template.split(':')[0]!), 'utf8').replace(
      /\$\{([A-Z_]+)\}/g,
      (_, name: string) => edgeEnv[name] ?? `\${${name}}`,
    );
    assert.doesNotMatch(conf, /\$\{/, 'every variable of the template is given to edge');
    assert.match(conf, /listen 443;\s+ssl_preread on;/, '443, read for its server name only');
    const toTurn = new RegExp(`^\\s*${tls.replaceAll('.', '\\.')} 127\\.0\\.0\\.1:(\\d+);`, 'm').exec(
      conf,
    )?.[1];
    assert.ok(toTurn, `${tls} is sent on`);
    const hop = new RegExp(
      `listen 127\\.0\\.0\\.1:${toTurn} proxy_protocol;\\s+proxy_pass 127\\.0\\.0\\.1:(\\d+);`,
    ).exec(conf)?.[1];
    assert.equal(hop, interpolated(tlsPort), 'to coturn’s TLS port, the PROXY header taken off');
  });

  it('runs call placement: triage places calls on the call node, announced on the site’s origin at its /call-node/ path, which web reaches through the host gateway and routes by Redis', () => {
    const byRepository = (repository: string) =>
      Object.values(services()).find((s) => imageRepository(s.image) === repository)!;
    const envOf = (service: ComposeServiceShape) =>
      Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([key, value]) => [key, interpolated(value)]),
      );
    const webService = byRepository('gpc/web');
    const triage = loadWith('TRIAGE', envOf(byRepository('gpc/triage')), 'triage');
    const node = loadWith('SIGNALLING', envOf(byRepository('gpc/call-node')), 'call-node');
    const web = loadWith('WEB', envOf(webService), 'web');
    const reach = assertPlacement(triage, node, web, 'compose');
    // the call node is on the host's network, listening on every address: web reaches it at the host
    // gateway, by the name its extra_hosts gives it
    assert.equal(node.host, '0.0.0.0', 'the call node listens where the host gateway reaches it');
    assert.ok(
      (webService as { extra_hosts?: string[] }).extra_hosts?.includes(`${reach.hostname}:host-gateway`),
      `web resolves ${reach.hostname} to the host`,
    );
    assert.equal(
      new URL(web.redisUrl as string).host,
      new URL(triage.redisUrl as string).host,
      'web reads the Redis triage places calls by',
    );
  });

  it('names in deploy/.env.example every variable it reads, and nothing else', () => {
    const example = readFileSync(path.join(deployDir, '.env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    assert.deepEqual([...listed].sort(), [...variablesIn(JSON.stringify(compose))].sort());
  });

  it('has triage presign uploads against the origin the pages’ policy lets them upload to, and the record worker read the same bucket', async () => {
    const envOf = (repository: string) => {
      const service = Object.values(services()).find((s) => imageRepository(s.image) === repository)!;
      return Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([key, value]) => [key, interpolated(value)]),
      );
    };
    const triage = loadWith('TRIAGE', envOf('gpc/triage'), 'triage');
    const web = loadWith('WEB', envOf('gpc/web'), 'web');
    const record = loadWith('RECORD', envOf('gpc/record'), 'record');
    assert.deepEqual(await pageConnectOrigins(web), [await presignedUploadOrigin(triage)]);
    assert.equal(record.s3Bucket, triage.s3Bucket);
  });
});

// ---------------------------------------------------------------------------------------------------
// Kubernetes

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

/** The model class of every kind the manifests may hold: anything else is a mistake here. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
};

/** What Debian's kubectl 1.20 (kustomize v2.0.3) understands in a kustomization.yaml. */
const oldKustomizeKeys = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'namePrefix',
  'nameSuffix',
  'commonLabels',
  'commonAnnotations',
  'resources',
  'bases',
  'images',
  'patchesStrategicMerge',
  'patchesJson6902',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
  'vars',
]);

function assertOldKustomize(dir: string): void {
  const kustomization = parse(
    readFileSync(path.join(deployDir, 'kubernetes', dir, 'kustomization.yaml'), 'utf8'),
  ) as Record<string, unknown>;
  const unknown = Object.keys(kustomization).filter((key) => !oldKustomizeKeys.has(key));
  assert.deepEqual(unknown, [], 'kustomize v2.0.3 has no `patches`, `labels` or the like');
  // v2.0.3 reads directories from `bases` only
  for (const resource of (kustomization.resources as string[] | undefined) ?? [])
    assert.match(resource, /\.ya?ml$/, `${resource}: a directory belongs in bases`);
}

/**
 * kubectl from the PATH, or KUBECTL: e.g. Debian's 1.20 (kubernetes-client, kustomize v2.0.3)
 * unpacked with `apt-get download kubernetes-client && dpkg-deb -x ...`, to render with the old one.
 */
const kubectl = process.env.KUBECTL ?? 'kubectl';

async function render(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run(kubectl, ['kustomize', path.join(deployDir, 'kubernetes', dir)], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseAllDocuments(stdout).map((document) => document.toJS() as K8sObject);
}

function podSpecOf(object: K8sObject): IPodSpec | undefined {
  const spec = object.spec as { template?: { spec?: IPodSpec } } | undefined;
  return spec?.template?.spec;
}

/**
 * A container's variables with the service's prefix, as the service would see them: references
 * (Secrets, the downward API, `$(NAME)`) filled with placeholders.
 */
function serviceEnv(container: IContainer, prefix: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (!variable.name.startsWith(`${prefix}_`)) continue;
    if (variable.value !== undefined)
      env[variable.name] = variable.value.replace(/\$\([A-Z_]+\)/g, '10.0.0.1');
    else if (variable.valueFrom?.fieldRef) env[variable.name] = '10.0.0.1';
    // a Secret's value: a URL where the service checks it is one
    else env[variable.name] = variable.name.endsWith('_REDIS_URL') ? 'redis://placeholder' : 'placeholder';
  }
  return env;
}

/**
 * A container's variables as the kubelet gives them: the downward API's fields from `fields`, Secrets
 * as placeholders, and `$(NAME)` filled in only from a variable declared before it (else left as
 * written, as Kubernetes does).
 */
function expandedEnv(container: IContainer, fields: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const field = variable.valueFrom?.fieldRef?.fieldPath;
    if (variable.value !== undefined)
      env[variable.name] = variable.value.replace(/\$\(([A-Za-z0-9_]+)\)/g, (whole, name: string) =>
        name in env ? env[name]! : whole,
      );
    else if (field) {
      assert.ok(field in fields, `no stand-in for the downward API's ${field}`);
      env[variable.name] = fields[field]!;
    } else env[variable.name] = 'redis://placeholder';
  }
  return env;
}

for (const dir of ['base', 'overlays/production']) {
  describe(`deploy/kubernetes/${dir}, rendered with kubectl kustomize`, async () => {
    const objects = await render(dir);
    const workloads = objects.filter((o) => podSpecOf(o));
    const find = (kind: string, name: string) =>
      objects.find((o) => o.kind === kind && o.metadata.name === name);

    it('uses only what Debian’s kubectl 1.20 understands in its kustomization', () => {
      assertOldKustomize(dir);
    });

    it('holds only objects that pass the Kubernetes API schemas, and no Secret', () => {
      assert.ok(objects.length >= 15, `rendered ${objects.length} objects`);
      for (const object of objects) {
        const Model = models[`${object.apiVersion}/${object.kind}`];
        assert.ok(
          Model,
          `${object.apiVersion} ${object.kind} ${object.metadata.name}: no model for this kind`,
        );
        assert.doesNotThrow(
          () => new Model(object as never).validate(),
          `${object.kind} ${object.metadata.name}`,
        );
      }
      assert.equal(
        objects.filter((o) => o.kind === 'Secret').length,
        0,
        'secrets are referenced, never held',
      );
    });

    it('takes every credential from the one Secret the hosting team makes, by keys its kustomization names', () => {
      const comment = readFileSync(path.join(deployDir, 'kubernetes/base/kustomization.yaml'), 'utf8');
      const used = new Set<string>();
      for (const object of workloads)
        for (const container of podSpecOf(object)!.containers)
          for (const variable of container.env ?? []) {
            const ref = variable.valueFrom?.secretKeyRef;
            if (!ref) continue;
            assert.equal(ref.name, clusterSecret.name, `${object.metadata.name}: ${variable.name}`);
            assert.ok(
              (clusterSecret.keys as readonly string[]).includes(ref.key),
              `${variable.name}: key ${ref.key}`,
            );
            used.add(ref.key);
          }
      assert.deepEqual([...used].sort(), [...clusterSecret.keys].sort(), 'every key is used');
      for (const key of clusterSecret.keys)
        assert.ok(comment.includes(`${key}=`), `how to make ${key} is said`);
    });

    it('runs triage, record and web as Deployments and the call nodes as a DaemonSet, each from its own image, and no Job (the migration is applied on its own first)', () => {
      for (const [kind, name] of [
        ['Deployment', 'triage'],
        ['Deployment', 'record'],
        ['Deployment', 'web'],
        ['DaemonSet', 'call-node'],
      ] as const)
        assert.ok(find(kind, name), `${kind} ${name}`);
      for (const object of workloads)
        for (const container of podSpecOf(object)?.containers ?? [])
          assertKnownImage(container.image ?? '', `${object.kind} ${object.metadata.name}`);
      assert.deepEqual(
        objects.filter((o) => o.kind === 'Job').map((o) => o.metadata.name),
        [],
        're-applying must never meet a finished Job, nor bring back one its TTL removed',
      );
    });

    it('gives every container requests and limits, a non-root read-only securityContext, and every server its probes', () => {
      for (const object of workloads) {
        const pod = podSpecOf(object)!;
        for (const container of pod.containers) {
          const where = `${object.kind} ${object.metadata.name} ${container.name}`;
          for (const bound of ['requests', 'limits'] as const)
            for (const resource of ['cpu', 'memory'])
              assert.ok(container.resources?.[bound]?.[resource], `${where}: ${bound}.${resource}`);
          const security = container.securityContext;
          assert.equal(
            pod.securityContext?.runAsNonRoot ?? security?.runAsNonRoot,
            true,
            `${where}: non-root`,
          );
          assert.equal(security?.readOnlyRootFilesystem, true, `${where}: read-only root filesystem`);
          assert.ok(security?.capabilities?.drop?.includes('ALL'), `${where}: drops every capability`);
          const added = security?.capabilities?.add ?? [];
          assert.ok(
            added.every((cap) => cap === 'NET_BIND_SERVICE'),
            `${where}: adds only NET_BIND_SERVICE`,
          );
          if (added.length === 0)
            assert.equal(security?.allowPrivilegeEscalation, false, `${where}: no escalation`);
          assert.equal(pod.automountServiceAccountToken, false, `${where}: no API token it does not use`);
          if (serviceImageOf(container.image ?? ''))
            assert.equal(
              security?.runAsUser ?? pod.securityContext?.runAsUser,
              imageUser,
              `${where}: the image's user`,
            );
          if (object.kind === 'Job') continue;
          assert.ok(container.livenessProbe, `${where}: liveness probe`);
          assert.ok(container.readinessProbe, `${where}: readiness probe`);
          if (serviceImageOf(container.image ?? '')) {
            assert.equal(container.livenessProbe.httpGet?.path, '/healthz', `${where}: liveness on /healthz`);
            assert.equal(container.readinessProbe.httpGet?.path, '/readyz', `${where}: readiness on /readyz`);
          }
        }
      }
    });

    it('gives each service only variables its configuration reads, secrets by reference, listening and probed on its configured port', () => {
      for (const object of workloads) {
        for (const container of podSpecOf(object)!.containers) {
          const image = serviceImageOf(container.image ?? '');
          const where = `${object.kind} ${object.metadata.name}`;
          for (const variable of container.env ?? [])
            if (secretName.test(variable.name))
              assert.ok(variable.valueFrom?.secretKeyRef, `${where}: ${variable.name} from a Secret`);
          for (const arg of container.args ?? [])
            if (/secret/i.test(arg) && arg.includes('='))
              assert.match(arg, /=\$\([A-Z_]+\)$/, `${where}: ${arg}`);
          if (!image) continue;
          const env = serviceEnv(container, image.envPrefix);
          const config = loadWith(image.envPrefix, env, where);
          const http = container.ports?.find((p) => p.name === 'http') ?? container.ports?.[0];
          assert.equal(http?.containerPort, config.port, `${where} declares the port it listens on`);
          for (const probe of [container.livenessProbe, container.readinessProbe])
            assert.ok(
              [http?.name, config.port].includes(probe?.httpGet?.port),
              `${where}: probed on its port`,
            );
        }
      }
    });

    it('puts the call nodes on their node’s network, with each media worker’s UDP and TCP port', () => {
      const callNode = find('DaemonSet', 'call-node')!;
      const pod = podSpecOf(callNode)!;
      assert.equal(pod.hostNetwork, true);
      assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet', 'and still resolves the cluster’s services');
      const container = pod.containers[0]!;
      const config = loadWith('SIGNALLING', serviceEnv(container, 'SIGNALLING'), 'call-node');
      for (let worker = 0; worker < (config.mediaWorkers as number); worker++)
        for (const protocol of ['UDP', 'TCP']) {
          const port = (config.rtcPort as number) + worker;
          assert.ok(
            container.ports?.some(
              (p) => p.containerPort === port && p.hostPort === port && p.protocol === protocol,
            ),
            `worker ${worker}: ${protocol} ${port} on the node`,
          );
        }
    });

    it('has each call node and coturn announce the public address the hosting team gives for its node, never the node’s own, and stop naming a node that has none', async () => {
      const map = objects.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(nodePublicAddresses.name),
      );
      const addresses = (map as { data?: Record<string, string> } | undefined)?.data;
      assert.ok(map && addresses, `the ConfigMap ${nodePublicAddresses.name}`);
      for (const [node, address] of Object.entries(addresses)) {
        assert.ok(isIP(address), `${node}: ${address} is an IP address`);
        assert.ok(!isPrivateAddress(address), `${node}: ${address} is one browsers can reach`);
      }
      const [node, address] = Object.entries(addresses)[0]!;
      for (const [name, entry] of [
        // the image's own command (deploy/images: node --import tsx <entry>)
        [
          'call-node',
          ['node', '--import', 'tsx', serviceImages.find((i) => i.name === 'gpc/call-node')!.entry],
        ],
        ['turn', ['turnserver']],
      ] as const) {
        const pod = podSpecOf(find('DaemonSet', name)!)!;
        const container = pod.containers[0]!;
        const where = `DaemonSet ${name}`;
        const env = new Map((container.env ?? []).map((v) => [v.name, v]));
        // the node's own address only where signalling listens for the ingress and the probes
        for (const variable of container.env ?? [])
          if (variable.valueFrom?.fieldRef?.fieldPath === 'status.hostIP')
            assert.equal(variable.name, 'SIGNALLING_HOST', `${where}: ${variable.name} is not announced`);
        assert.equal(
          env.get('NODE_NAME')?.valueFrom?.fieldRef?.fieldPath,
          'spec.nodeName',
          `${where}: knows its node`,
        );
        const volumes = (pod.volumes ?? []) as { name: string; configMap?: { name?: string } }[];
        const volumeName: string | undefined = volumes.find(
          (v) => v.configMap?.name === map.metadata.name,
        )?.name;
        assert.ok(volumeName, `${where}: mounts ${map.metadata.name}`);
        const mounts = (container.volumeMounts ?? []) as { name: string; mountPath: string }[];
        const mountPath: string | undefined = mounts.find((m) => m.name === volumeName)?.mountPath;
        assert.equal(mountPath, env.get('NODE_PUBLIC_ADDRESSES')?.value, `${where}: where it reads it`);
        assert.equal(mountPath, nodePublicAddresses.mountPath);

        const started = await runEntry(container, node, addresses);
        assert.ok(started.ok, `${where} starts on ${node}: ${started.ok ? '' : started.stderr}`);
        const [announced, args] = /^announced=(\S*) args=(.*)$/m.exec(started.stdout)!.slice(1);
        if (name === 'call-node') {
          assert.equal(announced, address, 'SIGNALLING_RTC_ANNOUNCED_ADDRESS is its node’s');
          assert.equal(args, entry.slice(1).join(' '), 'then runs the image’s command');
        } else {
          assert.ok(args?.endsWith(` --external-ip=${address}`), `coturn's relays on ${address}: ${args}`);
          for (const arg of container.args ?? []) assert.ok(args?.includes(arg), `with ${arg}`);
        }
        const stopped = await runEntry(container, 'a-node-not-listed', addresses);
        assert.ok(!stopped.ok && stopped.stderr.includes('a-node-not-listed'), `${where} names the node`);
      }
    });

    it('has triage presign uploads against the origin the pages’ policy lets them upload to, and the record worker use the same store', async () => {
      const envOf = (name: string, prefix: ServiceImage['envPrefix']) =>
        serviceEnv(podSpecOf(find('Deployment', name)!)!.containers[0]!, prefix);
      const triage = loadWith('TRIAGE', envOf('triage', 'TRIAGE'), 'triage');
      const record = loadWith('RECORD', envOf('record', 'RECORD'), 'record');
      const web = loadWith('WEB', envOf('web', 'WEB'), 'web');
      assert.ok(triage.s3Endpoint, 'the store’s endpoint is given, not implied');
      assert.deepEqual(await pageConnectOrigins(web), [await presignedUploadOrigin(triage)]);
      for (const key of ['s3Bucket', 's3Region', 's3Endpoint', 's3ForcePathStyle'])
        assert.equal(record[key], triage[key], `${envName('RECORD', key)}: the same as triage's`);
    });

    it('gives participants the TURN relay the manifests run, with credentials from the relay’s own secret', () => {
      const container = podSpecOf(find('DaemonSet', 'call-node')!)!.containers[0]!;
      const relay = podSpecOf(find('DaemonSet', 'turn')!)!.containers[0]!;
      const keyOf = (c: IContainer, name: string) =>
        c.env?.find((v) => v.name === name)?.valueFrom?.secretKeyRef?.key;
      assert.ok(keyOf(relay, 'TURN_SHARED_SECRET'));
      assert.equal(keyOf(container, 'SIGNALLING_TURN_SECRET'), keyOf(relay, 'TURN_SHARED_SECRET'));
      const env = {
        ...serviceEnv(container, 'SIGNALLING'),
        SIGNALLING_TURN_SECRET: 'a-secret-of-sixteen-or-more',
      };
      const turn = turnSettings(loadWith('SIGNALLING', env, 'call-node') as SignallingConfig);
      assert.ok(turn, 'TURN is on');
      const urls = turn.urls;
      assert.ok(
        urls.some((url) => url.endsWith(':3478?transport=udp')) &&
          urls.some((url) => url.endsWith(':3478?transport=tcp')),
      );
      if (dir === 'overlays/production')
        assert.ok(
          urls.some((url) => /^turns:.+:443\?transport=tcp$/.test(url)),
          'TURN over TLS on 443',
        );
    });

    it('routes the pages, and the WebSockets of calls and the staff feed with long reads, to Services that exist', () => {
      const services = new Map(objects.filter((o) => o.kind === 'Service').map((o) => [o.metadata.name, o]));
      const ingresses = objects.filter((o) => o.kind === 'Ingress');
      const routes = new Map<string, { service: string; ingress: K8sObject }>();
      for (const ingress of ingresses) {
        const rules = (
          ingress.spec as {
            rules: {
              http: {
                paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[];
              };
            }[];
          }
        ).rules;
        for (const { path: route, backend } of rules.flatMap((rule) => rule.http.paths)) {
          const service = services.get(backend.service.name);
          assert.ok(service, `${route}: Service ${backend.service.name}`);
          const ports = (service.spec as { ports: { name: string }[] }).ports;
          assert.ok(
            ports.some((p) => p.name === backend.service.port.name),
            `${route}: port ${backend.service.port.name}`,
          );
          routes.set(route, { service: backend.service.name, ingress });
        }
      }
      assert.equal(routes.get('/')?.service, 'web');
      assert.equal(routes.get('/socket.io')?.service, 'call-node');
      assert.equal(routes.get('/staff-live')?.service, 'triage');
      for (const route of ['/socket.io', '/staff-live']) {
        const annotations = routes.get(route)?.ingress.metadata.annotations ?? {};
        assert.ok(
          Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 3600,
          `${route}: long reads`,
        );
        assert.equal(
          annotations['nginx.ingress.kubernetes.io/affinity'],
          'cookie',
          `${route}: sticky for polling`,
        );
      }
      if (dir === 'overlays/production')
        for (const ingress of ingresses) assert.ok((ingress.spec as { tls?: unknown[] }).tls?.length, 'TLS');
    });

    it('runs call placement: triage places calls on each call node, announced under its node’s name on the site’s origin at its /call-node/ path, which the ingress sends to web, and web reaches the node on its cluster address', () => {
      const map = objects.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(nodePublicAddresses.name),
      ) as { data?: Record<string, string> } | undefined;
      const nodes = Object.keys(map?.data ?? {});
      assert.ok(nodes.length > 0, 'the nodes the call nodes run on');
      const container = podSpecOf(find('DaemonSet', 'call-node')!)!.containers[0]!;
      const envOf = (name: string) => podSpecOf(find('Deployment', name)!)!.containers[0]!;
      const hostIP = '10.0.0.7';
      const only = (env: Record<string, string>, prefix: string) =>
        Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith(`${prefix}_`)));
      const triage = loadWith('TRIAGE', only(expandedEnv(envOf('triage'), {}), 'TRIAGE'), 'triage');
      const web = loadWith('WEB', only(expandedEnv(envOf('web'), {}), 'WEB'), 'web');
      const ids = new Set<string>();
      for (const nodeName of nodes) {
        // on a host network, the pod's address is its node's
        const fields = {
          'spec.nodeName': nodeName,
          'status.hostIP': hostIP,
          'status.podIP': hostIP,
          'metadata.name': 'call-node-x7k2p',
        };
        const env = only(expandedEnv(container, fields), 'SIGNALLING');
        for (const [key, value] of Object.entries(env))
          assert.doesNotMatch(value, /\$\(/, `${key}: names only variables declared before it`);
        const node = loadWith('SIGNALLING', env, `call-node on ${nodeName}`);
        const reach = assertPlacement(triage, node, web, `call-node on ${nodeName}`);
        ids.add(node.nodeId as string);
        assert.equal(reach.hostname, hostIP, 'web reaches the node on its cluster address');
        assert.ok(
          [hostIP, '0.0.0.0'].includes(node.host as string),
          'where the node listens (SIGNALLING_HOST)',
        );
      }
      assert.equal(ids.size, nodes.length, 'each node’s call node has an id of its own');
      // every service reads the one Redis
      const redisKey = (c: IContainer, name: string) =>
        c.env?.find((v) => v.name === name)?.valueFrom?.secretKeyRef?.key;
      assert.equal(redisKey(envOf('web'), 'WEB_REDIS_URL'), redisKey(container, 'SIGNALLING_REDIS_URL'));
      assert.equal(
        redisKey(envOf('triage'), 'TRIAGE_REDIS_URL'),
        redisKey(container, 'SIGNALLING_REDIS_URL'),
      );
      // the pages' socket.io at a node's path: to web, as a long-lived WebSocket
      const path = '/call-node/a-node/socket.io/';
      const matches: { path: string; service: string; ingress: K8sObject }[] = [];
      for (const ingress of objects.filter((o) => o.kind === 'Ingress'))
        for (const rule of (
          ingress.spec as {
            rules: {
              http: { paths: { path: string; pathType: string; backend: { service: { name: string } } }[] };
            }[];
          }
        ).rules)
          for (const route of rule.http.paths) {
            const prefix = route.path.replace(/\/$/, '');
            if (route.pathType === 'Prefix' && (path === prefix || path.startsWith(`${prefix}/`)))
              matches.push({ path: prefix, service: route.backend.service.name, ingress });
          }
      const route = matches.sort((a, b) => b.path.length - a.path.length)[0];
      assert.equal(route?.service, 'web', `${path} goes to web, which routes it to the node`);
      const annotations = route.ingress.metadata.annotations ?? {};
      assert.ok(
        Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 3600,
        `${path}: long reads`,
      );
      assert.equal(
        annotations['nginx.ingress.kubernetes.io/proxy-http-version'],
        '1.1',
        `${path}: WebSocket`,
      );
      assert.deepEqual(
        objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name),
        [],
        'no NetworkPolicy: one added must let web reach the call nodes’ port 3002 on their nodes',
      );
    });

    it('scales and protects each Deployment: an autoscaler and a disruption budget that select it', () => {
      for (const name of ['triage', 'record', 'web']) {
        const deployment = find('Deployment', name)!;
        const hpa = find('HorizontalPodAutoscaler', name);
        assert.equal((hpa?.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name, name);
        const labels =
          (podSpecOf(deployment) &&
            (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template
              .metadata.labels) ??
          {};
        const selector = (
          find('PodDisruptionBudget', name)?.spec as { selector: { matchLabels: Record<string, string> } }
        ).selector.matchLabels;
        for (const [key, value] of Object.entries(selector))
          assert.equal(labels[key], value, `${name}'s budget selects it`);
      }
    });

    if (dir === 'overlays/production')
      it('offers TURN over TLS on 443 with its certificate from a Secret', () => {
        const turn = podSpecOf(find('DaemonSet', 'turn')!)!;
        const container = turn.containers[0]!;
        assert.ok(container.args?.includes('--tls-listening-port=443'));
        assert.ok(container.ports?.some((p) => p.hostPort === 443 && p.protocol === 'TCP'));
        assert.ok(turn.volumes?.some((v) => v.secret?.secretName));
      });
  });
}

for (const [dir, release] of [
  ['migrate', 'base'],
  ['overlays/production/migrate', 'overlays/production'],
] as const) {
  describe(`deploy/kubernetes/${dir}, the migration Job on its own, rendered with kubectl kustomize`, async () => {
    const objects = await render(dir);
    const released = await render(release);

    it('uses only what Debian’s kubectl 1.20 understands in its kustomization', () => {
      assertOldKustomize(dir);
    });

    it('holds the migration Job alone, valid against the API schemas, running the migrate command from the triage image its release runs', () => {
      assert.deepEqual(
        objects.map((o) => `${o.kind} ${o.metadata.name}`),
        ['Job triage-migrate'],
      );
      const job = objects[0]!;
      assert.doesNotThrow(() => new Job(job as never).validate(), 'Job triage-migrate');
      const triage = released.find((o) => o.kind === 'Deployment' && o.metadata.name === 'triage')!;
      const namespaceOf = (o: K8sObject) => (o.metadata as { namespace?: string }).namespace;
      assert.equal(namespaceOf(job), namespaceOf(triage), `in ${release}'s namespace`);
      const pod = podSpecOf(job)!;
      const container = pod.containers[0]!;
      assert.equal(
        container.image,
        podSpecOf(triage)!.containers[0]!.image,
        `${release}'s triage image and tag`,
      );
      assert.deepEqual(container.command, [...migrateCommand]);
      assert.deepEqual(Object.keys(serviceEnv(container, 'TRIAGE')).sort(), [
        'TRIAGE_DATABASE_URL',
        'TRIAGE_LOG_LEVEL',
      ]);
      const database = container.env?.find((v) => v.name === 'TRIAGE_DATABASE_URL')?.valueFrom?.secretKeyRef;
      assert.deepEqual({ ...database }, { name: clusterSecret.name, key: 'database-url' });
      const spec = job.spec as { ttlSecondsAfterFinished?: number; backoffLimit?: number };
      assert.ok(spec.ttlSecondsAfterFinished, 'it removes itself once finished');
      assert.equal(pod.restartPolicy, 'Never');
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.equal(pod.securityContext?.runAsUser, imageUser);
      assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
      assert.ok(container.securityContext?.capabilities?.drop?.includes('ALL'));
      for (const bound of ['requests', 'limits'] as const)
        for (const resource of ['cpu', 'memory'])
          assert.ok(container.resources?.[bound]?.[resource], `${bound}.${resource}`);
    });
  });
}
