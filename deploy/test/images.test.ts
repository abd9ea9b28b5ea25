import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import { defaultTokenIssuer } from '@gpc/contracts';
import {
  createTestDatabase,
  freePort,
  processSigningKey,
  startRedis,
  testSecretsEnv,
  track,
  triageProcessEnv,
  waitFor,
  type ChildService,
  type RedisServer,
  type TestDatabase,
} from '@gpc/test-support';
import { TokenKeys } from '@gpc/triage';
import { imageUser, migrateCommand, serviceImages, type ServiceImageName } from '../src/index';
import { buildImages, defaultWorkerBin, runCommand, type BuiltImage } from '../src/images';

/**
 * The service images, built (or found by their content hash) with buildah, and each service run
 * from its image's filesystem with `buildah run --isolation chroot` (the host's network: it reaches
 * this machine's PostgreSQL and a Redis of the test's own), as its image's command, as the image's
 * user. `podman run` cannot start containers in this sandbox (crun: setrlimit not permitted), so
 * this is as close to a container as it gets here: no namespaces, cgroups or read-only root.
 * npm test builds the images before the tests (scripts/src/test.ts); here the build is a cache hit.
 */

let images: Map<string, string>;
let db: TestDatabase;
let redis: RedisServer;

before(async () => {
  const built: BuiltImage[] = await buildImages({
    workerBin: defaultWorkerBin(),
    log: (line) => process.stdout.write(`[images] ${line}\n`),
  });
  images = new Map(built.map((image) => [image.name, image.reference]));
  db = await createTestDatabase();
  // triage has no queue prefix: a Redis of the test's own keeps it off other tests' queues
  redis = await startRedis();
});

after(async () => {
  await db?.drop();
  await redis?.remove();
});

function image(name: ServiceImageName): string {
  const reference = images.get(name);
  assert.ok(reference, `${name} was not built`);
  return reference;
}

interface ImageConfig {
  User?: string;
  Cmd?: string[];
  WorkingDir?: string;
  Env?: string[];
}

async function imageConfig(reference: string): Promise<ImageConfig> {
  const out = await runCommand('buildah', ['inspect', '--type', 'image', reference]);
  return (JSON.parse(out) as { OCIv1: { config: ImageConfig } }).OCIv1.config;
}

interface ProcessInfo {
  pid: number;
  uids: number[];
  exe: string;
  cmdline: string;
}

/** Every process below `rootPid` (its children, theirs...), as /proc shows them. */
function descendants(rootPid: number): ProcessInfo[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(name), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at))
      if (at === rootPid) return true;
    return false;
  };
  const found: ProcessInfo[] = [];
  for (const pid of parents.keys()) {
    if (!below(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const uids = (/^Uid:\s+(.*)$/m.exec(status)?.[1] ?? '').split(/\s+/).map(Number);
      let exe = '';
      try {
        exe = readlinkSync(`/proc/${pid}/exe`);
      } catch {
        exe = '';
      }
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid, uids, exe, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

interface Running {
  container: string;
  process: ChildService;
  /** The processes the image's command started (the service, a call node's media workers). */
  processes(): ProcessInfo[];
}

const cleanups = new WeakMap<TestContext, (() => Promise<void>)[]>();

/**
 * Runs `cleanup` when the test ends, pass or fail: the last registered first (node:test runs its
 * own t.after hooks first registered first), every one even when one fails.
 */
function onEnd(t: TestContext, cleanup: () => Promise<void>): void {
  let stack = cleanups.get(t);
  if (!stack) {
    const created: (() => Promise<void>)[] = [];
    stack = created;
    cleanups.set(t, created);
    t.after(async () => {
      const failures: unknown[] = [];
      for (const next of created.reverse()) await next().catch((error: unknown) => failures.push(error));
      if (failures.length > 0) throw failures[0];
    });
  }
  stack.push(cleanup);
}

/** `buildah from IMAGE`: a working container of the image, removed when the test ends, pass or fail. */
async function containerOf(t: TestContext, reference: string): Promise<string> {
  const container = (await runCommand('buildah', ['from', reference])).trim().split('\n').pop()!;
  onEnd(t, async () => {
    await runCommand('buildah', ['rm', container]);
  });
  return container;
}

/**
 * `buildah run --isolation chroot` in `container` of `command` (the image's own by default) with
 * `env`. When the test ends, before the container is removed: its processes stopped (SIGTERM, then
 * SIGKILL after 10 s), pass or fail.
 */
function runIn(
  t: TestContext,
  container: string,
  env: Record<string, string>,
  command?: readonly string[],
): Running {
  const envArgs = Object.entries(env).flatMap(([name, value]) => ['--env', `${name}=${value}`]);
  const service = track(
    spawn('buildah', ['run', '--isolation', 'chroot', ...envArgs, container, '--', ...(command ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const pid = service.child.pid!;
  onEnd(t, async () => {
    const inside = descendants(pid);
    for (const { pid: child } of inside) signal(child, 'SIGTERM');
    const stopped = await Promise.race([
      service.exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000)),
    ]);
    if (!stopped) for (const { pid: child } of [...inside, { pid }]) signal(child, 'SIGKILL');
    await service.exited;
  });
  return { container, process: service, processes: () => descendants(pid) };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** A service run from its image's filesystem, as the image's command. */
async function runFromImage(
  t: TestContext,
  reference: string,
  env: Record<string, string>,
): Promise<Running> {
  const config = await imageConfig(reference);
  assert.ok(config.Cmd && config.Cmd.length > 0, `${reference} has no command`);
  const container = await containerOf(t, reference);
  return runIn(t, container, env, config.Cmd);
}

/** Waits until `url` answers 200, failing at once (with its output) if the service exits. */
async function waitFor200(running: Running, url: string): Promise<void> {
  await waitFor(
    () => `${url} to answer 200: ${running.process.output()}`,
    async () => {
      if (running.process.child.exitCode !== null)
        throw new Error(
          `the service exited (${running.process.child.exitCode}): ${running.process.output()}`,
        );
      const response = await fetch(url).catch(() => undefined);
      return response?.status === 200;
    },
    { timeoutMs: 180_000, intervalMs: 250 },
  );
}

/** The service's own process (node, running the image's command) runs as the image's user, not root. */
function assertRunsAsImageUser(running: Running, entry: string): void {
  const node = running
    .processes()
    .find((p) => p.exe.endsWith('/usr/local/bin/node') && p.cmdline.includes(entry));
  assert.ok(node, `no process runs ${entry}: ${JSON.stringify(running.processes())}`);
  assert.deepEqual(node.uids, [imageUser, imageUser, imageUser, imageUser], `uids of ${node.cmdline}`);
  assert.notEqual(node.uids[0], 0);
}

async function healthAndReadiness(running: Running, port: number): Promise<void> {
  await waitFor200(running, `http://127.0.0.1:${port}/healthz`);
  await waitFor200(running, `http://127.0.0.1:${port}/readyz`);
}

function entryOf(name: ServiceImageName): string {
  return serviceImages.find((image) => image.name === name)!.entry;
}

describe('the service images', { timeout: 900_000 }, () => {
  it('gives each service image its entry file as command and user 10001, not root', async () => {
    for (const service of serviceImages) {
      const config = await imageConfig(image(service.name));
      assert.equal(config.User, String(imageUser), service.name);
      assert.deepEqual(config.Cmd, ['node', '--import', 'tsx', service.entry], service.name);
      assert.equal(config.WorkingDir, '/app', service.name);
    }
  });

  it('leaves user 10001 nothing it can write in /app or /usr/local of the images', async (t) => {
    // the call node's and web's add files of their own; the app image's are in both
    for (const name of ['gpc/call-node', 'gpc/web'] as const) {
      const container = await containerOf(t, image(name));
      const find = runIn(t, container, {}, ['find', '/app', '/usr/local', '-writable']);
      assert.equal(await find.process.exited, 0, find.process.output());
      assert.equal(find.process.output().trim(), '', `${name}: writable by the image's user`);
      const who = runIn(t, container, {}, ['id', '-u']);
      assert.equal(await who.process.exited, 0, who.process.output());
      assert.equal(who.process.output().trim(), String(imageUser));
    }
  });

  it('migrates an empty database with the migration command in the triage image', async (t) => {
    const container = await containerOf(t, image('gpc/triage'));
    const migration = runIn(t, container, { TRIAGE_DATABASE_URL: db.url }, migrateCommand);
    assert.equal(await migration.process.exited, 0, migration.process.output());
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'practice'`,
    );
    assert.equal(rows[0]!.n, 1, `no practice table after the migration: ${migration.process.output()}`);
  });

  it('runs triage from its image as user 10001, answering /healthz and /readyz', async (t) => {
    const port = await freePort();
    const running = await runFromImage(t, image('gpc/triage'), {
      ...triageProcessEnv(),
      TRIAGE_PORT: String(port),
      TRIAGE_DATABASE_URL: db.url,
      TRIAGE_REDIS_URL: redis.url,
    });
    await healthAndReadiness(running, port);
    assertRunsAsImageUser(running, entryOf('gpc/triage'));
  });

  it("runs a call node from its image, its media workers from the image's worker binary, ready", async (t) => {
    const port = await freePort();
    const running = await runFromImage(t, image('gpc/call-node'), {
      SIGNALLING_PORT: String(port),
      SIGNALLING_RTC_PORT: String(await freePort()),
      SIGNALLING_JWKS: JSON.stringify(new TokenKeys([processSigningKey], defaultTokenIssuer).publicJwks()),
      SIGNALLING_REDIS_URL: redis.url,
      SIGNALLING_LOG_LEVEL: 'warn',
    });
    // ready means Redis answers and every media worker is alive
    await healthAndReadiness(running, port);
    assertRunsAsImageUser(running, entryOf('gpc/call-node'));
    const workers = running
      .processes()
      .filter((p) => p.exe.endsWith('/usr/local/lib/gp-consult/mediasoup-worker'));
    assert.ok(
      workers.length > 0,
      `no media worker from the image's binary: ${JSON.stringify(running.processes())}`,
    );
    for (const worker of workers) assert.deepEqual(worker.uids, [imageUser, imageUser, imageUser, imageUser]);
  });

  it('runs the record worker from its image as user 10001, answering /healthz and /readyz', async (t) => {
    const port = await freePort();
    const running = await runFromImage(t, image('gpc/record'), {
      ...testSecretsEnv('RECORD'),
      RECORD_S3_BUCKET: 'unused-bucket',
      RECORD_S3_ACCESS_KEY_ID: 'unused',
      RECORD_S3_SECRET_ACCESS_KEY: 'unused',
      RECORD_PORT: String(port),
      RECORD_DATABASE_URL: db.url,
      RECORD_REDIS_URL: redis.url,
      RECORD_QUEUE_PREFIX: `gpc-images-test-${port}`,
      RECORD_LOG_LEVEL: 'warn',
    });
    await healthAndReadiness(running, port);
    assertRunsAsImageUser(running, entryOf('gpc/record'));
  });

  it('serves the built pages from the web image as user 10001, answering /healthz and /readyz', async (t) => {
    const port = await freePort();
    const running = await runFromImage(t, image('gpc/web'), {
      WEB_PORT: String(port),
      WEB_HOST: '127.0.0.1',
    });
    await healthAndReadiness(running, port);
    assertRunsAsImageUser(running, entryOf('gpc/web'));
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    // a hashed script of the build, served as the page names it
    const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, `no built script in the page: ${html.slice(0, 500)}`);
    const asset = await fetch(`http://127.0.0.1:${port}${script}`);
    assert.equal(asset.status, 200, script);
  });
});
