// Builds the four service images (deploy/images/*.Containerfile) with `buildah bud --isolation chroot`,
// cached by content: each image is tagged with a hash of everything that goes into it (its
// Containerfile, the files it copies, the image it is built FROM), and a build whose tag is already in
// local containers storage is skipped. The layers:
//
//   localhost/debian:bookworm-min-<hash>  debootstrap --variant=minbase bookworm, with the worker's libraries
//   localhost/gpc/app:<hash>              + Node 24, /app (the services' workspaces and run-time npm packages), user 10001
//   localhost/gpc/<service>:<hash>        + its command; the call node the mediasoup worker, web the built pages
//
// `npm run images -w deploy` (or `node --import tsx deploy/src/images.ts`) builds them and tags each
// `:latest` as well. Needs root for debootstrap and buildah and debootstrap installed (npm test
// installs them).
import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import {
  copyFileSync,
  chmodSync,
  createReadStream,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serviceImages, type ServiceImageName } from './index';

const deployDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(deployDir, '..');
export const containerfilesDir = path.join(deployDir, 'images');

/** The workspaces the services run (and what they import), copied into /app with their package.json. */
export const appWorkspaces = [
  'contracts',
  'outbound',
  'media',
  'signalling',
  'triage',
  'record',
  'web',
] as const;

/** Packages the services run under besides their own dependencies: tsx, which the commands load. */
const runtimeRoots = ['node_modules/tsx'];

/**
 * Debian packages added to the minimal base: the shared libraries the mediasoup worker (built
 * against Debian's, scripts/src/mediasoup-worker.ts) links against.
 */
export const baseExtraPackages = ['libuv1', 'libssl3', 'libsrtp2-1', 'libusrsctp2', 'libabsl20220623'];

export interface BuiltImage {
  /** e.g. `gpc/triage`, or `gpc/app` / `debian` for the shared layers */
  name: string;
  /** `localhost/gpc/triage:<hash>` */
  reference: string;
  /** false when the image with that hash was already in local storage */
  built: boolean;
  seconds: number;
}

export interface BuildImagesOptions {
  /** The mediasoup worker binary the call node carries. */
  workerBin: string;
  /** Where the base's root filesystem, the built pages and the build contexts are kept. */
  cacheDir?: string;
  /** Also tag each service image with this (e.g. `latest`, or a release's version). */
  alsoTag?: string;
  /** Remove the images earlier builds left that these supersede (default true). */
  prune?: boolean;
  log?: (line: string) => void;
}

/** The GPC cache directory, as scripts/ uses it: GPC_CACHE_DIR, else ~/.cache/gp-consult. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GPC_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'gp-consult');
}

/** Runs a command to completion; its output is returned, and shown (tail) when it fails. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (output.length > 200_000) output = output.slice(-100_000);
      if (options.onLine) for (const line of text.split('\n')) if (line.trim()) options.onLine(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`)),
    );
  });
}

/** True when an image of that reference is in local containers storage. */
export async function imageExists(reference: string): Promise<boolean> {
  try {
    await runCommand('buildah', ['inspect', '--type', 'image', '--format', '{{.FromImageID}}', reference]);
    return true;
  } catch {
    return false;
  }
}

interface StoredImage {
  id: string;
  names?: string[];
  size?: string;
}

async function storedImages(...references: string[]): Promise<StoredImage[]> {
  return JSON.parse(await runCommand('buildah', ['images', '--json', ...references])) as StoredImage[];
}

/** The size of an image in local storage, as buildah gives it (e.g. `580 MB`). */
export async function imageSize(reference: string): Promise<string> {
  const [image] = await storedImages(reference);
  return image?.size ?? '?';
}

/** Tags this script gives (a content hash), by the repositories it builds. */
const hashTag =
  /^localhost\/(?:gpc\/(?:app|triage|call-node|record|web)|debian):(?:bookworm-min-)?[0-9a-f]{16}$/;

/**
 * Removes the images an earlier build of this script left that `keep` supersedes: those whose
 * every name is a content-hash tag not in `keep` (each rebuild of the app image is ~450 MB).
 * An image a container still uses stays.
 */
async function pruneSuperseded(keep: readonly string[], log: (line: string) => void): Promise<void> {
  const images = await storedImages();
  // services first: the app image is their parent
  images.sort(
    (a, b) =>
      Number((a.names ?? []).some((n) => n.includes('/gpc/app:'))) -
      Number((b.names ?? []).some((n) => n.includes('/gpc/app:'))),
  );
  for (const image of images) {
    const names = image.names ?? [];
    if (names.length === 0 || !names.every((name) => hashTag.test(name) && !keep.includes(name))) continue;
    try {
      await runCommand('buildah', ['rmi', image.id]);
      log(`removed the superseded ${names.join(', ')}`);
    } catch {
      // in use by a container, or a parent of an image kept
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// What goes into /app: files, hashed and staged alike

interface Entry {
  /** path in the build context */
  rel: string;
  /** path on this machine */
  abs: string;
  kind: 'file' | 'link' | 'dir';
  mode: number;
  target?: string;
}

/** Every file, directory and symlink under `abs` (itself included), named `rel` onwards. */
function walk(abs: string, rel: string, skip: (rel: string, name: string) => boolean, out: Entry[]): void {
  const stat = lstatSync(abs);
  if (stat.isSymbolicLink()) {
    out.push({ rel, abs, kind: 'link', mode: 0o777, target: readlinkSync(abs) });
    return;
  }
  if (stat.isFile()) {
    out.push({ rel, abs, kind: 'file', mode: stat.mode & 0o7777 });
    return;
  }
  if (!stat.isDirectory()) return;
  out.push({ rel, abs, kind: 'dir', mode: stat.mode & 0o7777 });
  for (const name of readdirSync(abs).sort()) {
    if (skip(rel, name)) continue;
    walk(path.join(abs, name), `${rel}/${name}`, skip, out);
  }
}

interface LockPackage {
  link?: boolean;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * The npm packages the services need at run time, as package-lock.json locates them: the closure
 * of the app workspaces' `dependencies` (optional and peer ones when installed) and tsx, resolved
 * the way Node does (nearest node_modules up the tree). Development tools (TypeScript, ESLint,
 * Playwright, vite's plugins for tests...) are not in it unless a service depends on them.
 */
export function runtimePackages(root: string = repoRoot): string[] {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockPackage>;
  };
  const packages = lock.packages;
  const seen = new Set<string>();
  const queue: string[] = [...appWorkspaces, ...runtimeRoots];
  const resolve = (from: string, name: string): string | undefined => {
    let dir = from;
    for (;;) {
      const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (packages[candidate] && existsSync(path.join(root, candidate))) return candidate;
      if (dir === '') return undefined;
      const cut = dir.lastIndexOf('/node_modules/');
      dir = cut === -1 ? '' : dir.slice(0, cut);
      // a scoped package's directory is `node_modules/@scope/name`: its parent is what holds node_modules
    }
  };
  while (queue.length > 0) {
    const key = queue.shift()!;
    if (seen.has(key)) continue;
    const entry = packages[key];
    if (!entry) throw new Error(`package-lock.json has no "${key}"`);
    seen.add(key);
    if (entry.link && entry.resolved) {
      queue.push(entry.resolved);
      continue;
    }
    const required = Object.keys(entry.dependencies ?? {});
    const optional = [
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}),
    ];
    for (const name of required) {
      const found = resolve(key, name);
      if (!found) throw new Error(`${key || 'the root'} depends on ${name}, which is not installed`);
      queue.push(found);
    }
    for (const name of optional) {
      const found = resolve(key, name);
      if (found) queue.push(found);
    }
  }
  return [...seen].filter((key) => key.includes('node_modules/')).sort();
}

/** Every entry of /app: root files, the workspaces (not their tests), the run-time packages. */
export function appEntries(root: string = repoRoot): Entry[] {
  const entries: Entry[] = [];
  for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.base.json'])
    walk(path.join(root, file), `app/${file}`, () => false, entries);
  for (const workspace of appWorkspaces)
    walk(
      path.join(root, workspace),
      `app/${workspace}`,
      (rel, name) => rel === `app/${workspace}` && ['test', 'node_modules', 'dist', '.state'].includes(name),
      entries,
    );
  const packages = runtimePackages(root);
  const dirs = new Set<string>();
  for (const key of packages) {
    // the directories above the package (node_modules, node_modules/@scope, a workspace's node_modules)
    const parts = key.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (dirs.has(dir) || appWorkspaces.includes(dir as (typeof appWorkspaces)[number])) continue;
      dirs.add(dir);
      entries.push({ rel: `app/${dir}`, abs: path.join(root, dir), kind: 'dir', mode: 0o755 });
    }
    // a package's own nested node_modules hold other lock entries, included only when needed
    walk(
      path.join(root, key),
      `app/${key}`,
      (rel, name) => rel === `app/${key}` && name === 'node_modules',
      entries,
    );
  }
  const byRel = new Map(entries.map((entry) => [entry.rel, entry]));
  return [...byRel.values()].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

interface KnownDigest {
  size: number;
  mtimeNs: string;
  ino: number;
  sha256: string;
}

/**
 * Each file's SHA-256, kept between runs (in the cache directory) with the size, inode and
 * modification time (ns) it had: a file whose stat is unchanged is not read again, as git's index
 * does with core.trustctime off (staging hard-links the files, which changes their ctime). A warm
 * run then stats the ~20,000 files rather than reading ~450 MB.
 */
export class FileDigests {
  private known = new Map<string, KnownDigest>();
  private changed = false;
  private readonly used = new Set<string>();
  constructor(private readonly file: string) {
    try {
      this.known = new Map(
        Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, KnownDigest>),
      );
    } catch {
      this.known = new Map();
    }
  }

  async digest(file: string): Promise<string> {
    const stat = statSync(file, { bigint: true });
    const seen = this.known.get(file);
    const now = {
      size: Number(stat.size),
      mtimeNs: String(stat.mtimeNs),
      ino: Number(stat.ino),
    };
    this.used.add(file);
    if (seen && seen.size === now.size && seen.mtimeNs === now.mtimeNs && seen.ino === now.ino)
      return seen.sha256;
    const hash = createHash('sha256');
    if (now.size < 4 << 20) hash.update(readFileSync(file));
    else
      for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 }))
        hash.update(chunk as Buffer);
    const sha256 = hash.digest('hex');
    this.known.set(file, { ...now, sha256 });
    this.changed = true;
    return sha256;
  }

  save(): void {
    // files no longer hashed (removed, or of another checkout) are forgotten
    if (!this.changed && this.used.size === this.known.size) return;
    const kept = [...this.known].filter(([file]) => this.used.has(file));
    const partial = `${this.file}.${process.pid}.partial`;
    writeFileSync(partial, JSON.stringify(Object.fromEntries(kept)));
    renameSync(partial, this.file);
    this.changed = false;
  }
}

async function hashFile(hash: Hash, file: string, digests: FileDigests): Promise<void> {
  hash.update(await digests.digest(file));
}

/**
 * A hash of a list of entries: each one's path, kind, mode, symlink target and content. Files the
 * image's user could not read are given a+r (a+rx for directories) in the stage, and hashed so.
 */
async function hashEntries(hash: Hash, entries: readonly Entry[], digests: FileDigests): Promise<void> {
  for (const entry of entries) {
    hash.update(`${entry.kind}\0${entry.rel}\0${readableMode(entry).toString(8)}\0${entry.target ?? ''}\0`);
    if (entry.kind === 'file') await hashFile(hash, entry.abs, digests);
  }
}

function readableMode(entry: Entry): number {
  if (entry.kind === 'dir') return entry.mode | 0o555;
  if (entry.kind === 'file') return entry.mode | 0o444 | (entry.mode & 0o100 ? 0o111 : 0);
  return entry.mode;
}

/** Puts the entries into `contextDir`: hard links where it can (same filesystem, mode as wanted), else copies. */
function stage(contextDir: string, entries: readonly Entry[]): void {
  rmSync(contextDir, { recursive: true, force: true });
  mkdirSync(contextDir, { recursive: true });
  for (const entry of entries) {
    const to = path.join(contextDir, entry.rel);
    const mode = readableMode(entry);
    if (entry.kind === 'dir') {
      mkdirSync(to, { recursive: true });
      chmodSync(to, mode);
    } else if (entry.kind === 'link') {
      mkdirSync(path.dirname(to), { recursive: true });
      symlinkSync(entry.target!, to);
    } else {
      mkdirSync(path.dirname(to), { recursive: true });
      let linked = false;
      if (mode === entry.mode) {
        try {
          linkSync(entry.abs, to);
          linked = true;
        } catch {
          linked = false;
        }
      }
      if (!linked) {
        copyFileSync(entry.abs, to);
        chmodSync(to, mode);
      }
    }
  }
}

const short = (hash: Hash): string => hash.digest('hex').slice(0, 16);

/** Removes the entries of `dir` named like `pattern` but `keep`: what an earlier input left in the cache. */
function removeOthers(dir: string, pattern: RegExp, keep: string): void {
  for (const name of readdirSync(dir))
    if (pattern.test(name) && name !== keep) rmSync(path.join(dir, name), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------
// The base: debootstrap, cached as a tar under the cache directory

/** The Debian mirror apt uses on this machine (deb822 or one-line sources), else deb.debian.org. */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list'];
  try {
    for (const name of readdirSync('/etc/apt/sources.list.d'))
      files.push(path.join('/etc/apt/sources.list.d', name));
  } catch {
    // no sources.list.d
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const deb822 = /^URIs:\s*(\S+)/m.exec(text);
    if (deb822?.[1] && !deb822[1].includes('security')) return deb822[1];
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (line?.[1]) return line[1];
  }
  return 'http://deb.debian.org/debian';
}

/**
 * The root filesystem tar of the base: `debootstrap --variant=minbase bookworm` with
 * `baseExtraPackages`, without apt's caches, lists and documentation. Made once per cache
 * directory (about a minute and the mirror's bandwidth), then reused.
 */
export async function ensureBaseRootfs(cacheDir: string, log: (line: string) => void): Promise<string> {
  const key = createHash('sha256')
    .update(JSON.stringify({ suite: 'bookworm', variant: 'minbase', include: baseExtraPackages, v: 2 }))
    .digest('hex')
    .slice(0, 12);
  const dir = path.join(cacheDir, 'images', `debian-bookworm-minbase-${key}`);
  const tar = path.join(dir, 'rootfs.tar');
  mkdirSync(path.dirname(dir), { recursive: true });
  removeOthers(path.dirname(dir), /^debian-bookworm-minbase-[0-9a-f]{12}$/, path.basename(dir));
  if (existsSync(tar)) return tar;
  const mirror = debianMirror();
  const rootfs = path.join(cacheDir, 'images', `rootfs-${process.pid}`);
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`making the Debian bookworm base with debootstrap from ${mirror} (about a minute, once)`);
  try {
    await runCommand('debootstrap', [
      '--variant=minbase',
      `--include=${baseExtraPackages.join(',')}`,
      'bookworm',
      rootfs,
      mirror,
    ]);
    for (const sub of [
      'var/cache/apt/archives',
      'var/lib/apt/lists',
      'usr/share/doc',
      'usr/share/man',
      'usr/share/info',
    ])
      for (const name of readdirSync(path.join(rootfs, sub)))
        if (name !== 'partial' && name !== 'lock')
          rmSync(path.join(rootfs, sub, name), { recursive: true, force: true });
    // this machine's resolver and name are not the image's: a container runtime provides its own
    rmSync(path.join(rootfs, 'etc', 'resolv.conf'), { force: true });
    writeFileSync(path.join(rootfs, 'etc', 'hostname'), '');
    const partial = `${tar}.${process.pid}.partial`;
    // device nodes are the container runtime's to make
    await runCommand('tar', ['--numeric-owner', '--exclude=./dev/*', '-C', rootfs, '-cf', partial, '.']);
    renameSync(partial, tar);
    return tar;
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// The web pages, built once per content of their sources

/** The files `vite build` of the pages reads: web/ (not its tests or output), contracts, the lock. */
function webInputs(): Entry[] {
  const entries: Entry[] = [];
  walk(
    path.join(repoRoot, 'web'),
    'web',
    (rel, name) => rel === 'web' && ['test', 'node_modules', 'dist', '.state'].includes(name),
    entries,
  );
  walk(path.join(repoRoot, 'contracts', 'src'), 'contracts/src', () => false, entries);
  walk(path.join(repoRoot, 'package-lock.json'), 'package-lock.json', () => false, entries);
  return entries;
}

/** The production build of the pages (web/src/build-main.ts), cached by its inputs' content. */
export async function ensureWebDist(
  cacheDir: string,
  log: (line: string) => void,
  digests: FileDigests = new FileDigests(path.join(cacheDir, 'images', 'file-digests.json')),
): Promise<string> {
  const hash = createHash('sha256');
  await hashEntries(hash, webInputs(), digests);
  const dist = path.join(cacheDir, 'images', `web-dist-${short(hash)}`);
  removeOthers(path.dirname(dist), /^web-dist-[0-9a-f]{16}$/, path.basename(dist));
  if (existsSync(path.join(dist, 'index.html'))) return dist;
  log('building the pages (vite build) for gpc/web');
  const partial = `${dist}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  await runCommand(process.execPath, ['--import', 'tsx', path.join('web', 'src', 'build-main.ts')], {
    env: { ...process.env, WEB_DIST_DIR: partial },
  });
  rmSync(dist, { recursive: true, force: true });
  renameSync(partial, dist);
  return dist;
}

// ---------------------------------------------------------------------------------------------------

async function bud(
  containerfile: string,
  reference: string,
  contextDir: string,
  buildArgs: Record<string, string>,
  log: (line: string) => void,
): Promise<void> {
  const args = ['bud', '--isolation', 'chroot', '--layers=false', '-f', containerfile, '-t', reference];
  for (const [name, value] of Object.entries(buildArgs)) args.push('--build-arg', `${name}=${value}`);
  args.push(contextDir);
  log(`buildah ${args.join(' ')}`);
  await runCommand('buildah', args);
}

/** Builds `reference` from `containerfile` unless it is already in local storage. */
async function cachedBuild(
  name: string,
  reference: string,
  prepare: () => { contextDir: string; buildArgs: Record<string, string>; containerfile: string },
  log: (line: string) => void,
): Promise<BuiltImage> {
  const started = performance.now();
  if (await imageExists(reference)) {
    return { name, reference, built: false, seconds: (performance.now() - started) / 1000 };
  }
  const { contextDir, buildArgs, containerfile } = prepare();
  try {
    await bud(containerfile, reference, contextDir, buildArgs, log);
  } finally {
    rmSync(contextDir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  log(`built ${reference} in ${seconds.toFixed(1)} s`);
  return { name, reference, built: true, seconds };
}

function containerfile(name: string): string {
  return path.join(containerfilesDir, `${name}.Containerfile`);
}

function hashOf(...parts: (string | Buffer)[]): Hash {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash;
}

/** The short name of a service image: `gpc/call-node` -> `call-node`. */
export const serviceShortName = (name: ServiceImageName): string => name.slice('gpc/'.length);

/**
 * Builds the base, the shared app image and the four service images, each only when no image with
 * its content hash is in local storage. Returns them in that order (base, app, then the services).
 */
export async function buildImages(options: BuildImagesOptions): Promise<BuiltImage[]> {
  const log = options.log ?? ((line: string) => process.stdout.write(`[images] ${line}\n`));
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const workDir = path.join(cacheDir, 'images');
  mkdirSync(workDir, { recursive: true });
  const digests = new FileDigests(path.join(workDir, 'file-digests.json'));
  try {
    return await buildAll(options, cacheDir, workDir, digests, log);
  } finally {
    digests.save();
  }
}

async function buildAll(
  options: BuildImagesOptions,
  cacheDir: string,
  workDir: string,
  digests: FileDigests,
  log: (line: string) => void,
): Promise<BuiltImage[]> {
  const results: BuiltImage[] = [];

  const rootfsTar = await ensureBaseRootfs(cacheDir, log);
  const baseHash = hashOf(readFileSync(containerfile('base')));
  await hashFile(baseHash, rootfsTar, digests);
  const baseRef = `localhost/debian:bookworm-min-${short(baseHash)}`;
  results.push(
    await cachedBuild(
      'debian:bookworm-min',
      baseRef,
      () => {
        const contextDir = path.join(workDir, `context-base-${process.pid}`);
        rmSync(contextDir, { recursive: true, force: true });
        mkdirSync(contextDir, { recursive: true });
        linkSync(rootfsTar, path.join(contextDir, 'rootfs.tar'));
        return { contextDir, buildArgs: {}, containerfile: containerfile('base') };
      },
      log,
    ),
  );
  await runCommand('buildah', ['tag', baseRef, 'localhost/debian:bookworm-min']);

  const nodeBin = path.join(repoRoot, 'node_modules', 'node', 'bin', 'node');
  const entries: Entry[] = [
    { rel: 'node', abs: nodeBin, kind: 'file', mode: lstatSync(nodeBin).mode & 0o7777 },
    ...appEntries(),
  ];
  const hashing = performance.now();
  const appHash = hashOf(baseRef, readFileSync(containerfile('app')));
  await hashEntries(appHash, entries, digests);
  log(
    `hashed the app image's ${entries.length} entries in ${((performance.now() - hashing) / 1000).toFixed(1)} s`,
  );
  const appRef = `localhost/gpc/app:${short(appHash)}`;
  results.push(
    await cachedBuild(
      'gpc/app',
      appRef,
      () => {
        const contextDir = path.join(workDir, `context-app-${process.pid}`);
        stage(contextDir, entries);
        return { contextDir, buildArgs: { BASE: baseRef }, containerfile: containerfile('app') };
      },
      log,
    ),
  );

  const webStarted = performance.now();
  const webDist = await ensureWebDist(cacheDir, log, digests);
  log(`the built pages (${webDist}) in ${((performance.now() - webStarted) / 1000).toFixed(1)} s`);
  for (const image of serviceImages) {
    const short_ = serviceShortName(image.name);
    const extra: Entry[] = [];
    if (image.name === 'gpc/call-node') {
      if (!existsSync(options.workerBin)) throw new Error(`no mediasoup worker at ${options.workerBin}`);
      extra.push({
        rel: 'mediasoup-worker',
        abs: options.workerBin,
        kind: 'file',
        mode: lstatSync(options.workerBin).mode & 0o7777,
      });
    }
    if (image.name === 'gpc/web') walk(webDist, 'dist', () => false, extra);
    const hash = hashOf(appRef, readFileSync(containerfile(short_)));
    await hashEntries(hash, extra, digests);
    const reference = `localhost/${image.name}:${short(hash)}`;
    results.push(
      await cachedBuild(
        image.name,
        reference,
        () => {
          const contextDir = path.join(workDir, `context-${short_}-${process.pid}`);
          stage(contextDir, extra);
          return { contextDir, buildArgs: { APP: appRef }, containerfile: containerfile(short_) };
        },
        log,
      ),
    );
    if (options.alsoTag)
      await runCommand('buildah', ['tag', reference, `localhost/${image.name}:${options.alsoTag}`]);
  }
  if (options.prune !== false && results.some((image) => image.built))
    await pruneSuperseded(
      results.map((image) => image.reference),
      log,
    );
  return results;
}

/** The mediasoup worker scripts/ builds: MEDIASOUP_WORKER_BIN, else its place in the cache directory. */
export function defaultWorkerBin(cacheDir: string = defaultCacheDir()): string {
  if (process.env.MEDIASOUP_WORKER_BIN) return process.env.MEDIASOUP_WORKER_BIN;
  const pkg = JSON.parse(
    readFileSync(path.join(repoRoot, 'node_modules', 'mediasoup', 'package.json'), 'utf8'),
  ) as { version: string };
  return path.join(cacheDir, 'mediasoup-worker', `${pkg.version}-${process.arch}`, 'mediasoup-worker');
}

async function main(args: string[]): Promise<number> {
  const tagIndex = args.indexOf('--tag');
  const alsoTag = tagIndex === -1 ? 'latest' : args[tagIndex + 1];
  if (!alsoTag) {
    process.stderr.write(
      'usage: images.ts [--tag TAG]  (each service image is also tagged TAG, default latest)\n',
    );
    return 2;
  }
  const started = performance.now();
  const images = await buildImages({ workerBin: defaultWorkerBin(), alsoTag });
  for (const image of images) {
    process.stdout.write(
      `${image.reference.padEnd(48)} ${(await imageSize(image.reference)).padStart(8)}  ` +
        `${image.built ? 'built' : 'cached'} (${image.seconds.toFixed(1)} s)\n`,
    );
  }
  process.stdout.write(`${((performance.now() - started) / 1000).toFixed(1)} s in all\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`[images] ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
