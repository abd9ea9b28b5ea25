import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ensureAptPackages } from './apt';

const buildPackages = [
  'meson',
  'ninja-build',
  'pkg-config',
  'g++',
  'libssl-dev',
  'libuv1-dev',
  'libsrtp2-dev',
  'libusrsctp-dev',
  'libabsl-dev',
  'nlohmann-json3-dev',
];

/** Subproject variables in mediasoup 3.12's meson files, and the system dependency each becomes. */
const systemDependencies: Record<string, string> = {
  "openssl_proj.get_variable('openssl_dep')": 'openssl_dep',
  "nlohmann_json_proj.get_variable('nlohmann_json_dep')": 'nlohmann_json_dep',
  "libuv_proj.get_variable('libuv_dep')": 'libuv_dep',
  "libsrtp2_proj.get_variable('libsrtp2_dep')": 'libsrtp2_dep',
  "usrsctp_proj.get_variable('usrsctp_dep')": 'usrsctp_dep',
  "abseil_cpp_proj.get_variable('absl_container_dep')": 'absl_container_dep',
  "abseil_cpp_proj.get_variable('absl_strings_dep')": 'absl_strings_dep',
  "abseil_cpp_proj.get_variable('absl_types_dep')": 'absl_types_dep',
};

const systemDeclarations = `openssl_dep = dependency('openssl')
nlohmann_json_dep = dependency('nlohmann_json')
libuv_dep = dependency('libuv')
libsrtp2_dep = declare_dependency(dependencies: dependency('libsrtp2'),
  include_directories: include_directories('/usr/include/srtp2'))
usrsctp_dep = dependency('usrsctp')
absl_container_dep = dependency('absl_flat_hash_map')
absl_strings_dep = dependency('absl_strings')
absl_types_dep = dependency('absl_optional')
`;

/** Removes every `name_proj = subproject(...)` block, matching parentheses. */
function dropSubprojectBlocks(text: string): string {
  let out = '';
  let from = 0;
  for (const match of text.matchAll(/^\s*\w+_proj = subproject\(/gm)) {
    if (match.index < from) continue;
    out += text.slice(from, match.index);
    let depth = 0;
    let at = match.index + match[0].length - 1;
    do {
      if (text[at] === '(') depth++;
      else if (text[at] === ')') depth--;
      at++;
    } while (depth > 0 && at < text.length);
    from = at;
  }
  return out + text.slice(from);
}

function replaceVariables(text: string): string {
  let result = text;
  for (const [from, to] of Object.entries(systemDependencies)) result = result.replaceAll(from, to);
  return result;
}

/**
 * Points mediasoup 3.12's worker build at Debian's libraries instead of meson subprojects, which
 * would be downloaded: system `dependency()`s, only libwebrtc linked whole, meson >= 1.0 accepted.
 */
export function patchMesonForSystemLibraries(workerDir: string): void {
  const mainFile = path.join(workerDir, 'meson.build');
  const webrtcFile = path.join(workerDir, 'deps', 'libwebrtc', 'meson.build');
  let main = readFileSync(mainFile, 'utf8');
  main = main.replace(/meson_version: '>= [0-9.]+'/, "meson_version: '>= 1.0.0'");
  // catch2 only serves the worker's own tests
  main = main.replaceAll(
    "catch2_proj.get_variable('catch2_dep')",
    "dependency('catch2-with-main', required: false)",
  );
  main = dropSubprojectBlocks(main);
  const anchor = "libwebrtc_include_directories = include_directories('include')";
  if (!main.includes(anchor)) throw new Error(`unexpected mediasoup meson.build: "${anchor}" not found`);
  main = main.replace(anchor, `${systemDeclarations}${anchor}`);
  main = replaceVariables(main);
  main = main.replace(/link_whole = \[[^\]]*\]/, 'link_whole = [\n  libwebrtc,\n]');
  writeFileSync(mainFile, main);
  writeFileSync(webrtcFile, replaceVariables(dropSubprojectBlocks(readFileSync(webrtcFile, 'utf8'))));
  for (const file of [mainFile, webrtcFile]) {
    const left = readFileSync(file, 'utf8').match(/\w+_proj\.get_variable\([^)]*\)/);
    if (left && !left[0].includes('wingetopt'))
      throw new Error(`${file} still uses a subproject: ${left[0]}`);
  }
}

function runLogged(command: string, args: string[], cwd: string, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let lastProgress = 0;
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        // ninja prints "[n/total] ..." for every step: report every tenth of the way
        const progress = /^\[(\d+)\/(\d+)\]/.exec(line);
        if (progress) {
          const fraction = Number(progress[1]) / Number(progress[2]);
          if (fraction - lastProgress >= 0.1 || fraction === 1) {
            lastProgress = fraction;
            log(`mediasoup worker build: ${Math.round(fraction * 100)}%`);
          }
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${tail.join('\n')}`)),
    );
  });
}

function usable(file: string): boolean {
  try {
    const stat = statSync(file);
    return stat.isFile() && stat.size > 1_000_000 && (stat.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

export function mediasoupVersion(): string {
  const require = createRequire(import.meta.url);
  const pkg = JSON.parse(readFileSync(require.resolve('mediasoup/package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function cachedWorkerPath(cacheDir?: string): string {
  const base =
    cacheDir ??
    process.env.GPC_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'gp-consult');
  return path.join(base, 'mediasoup-worker', `${mediasoupVersion()}-${process.arch}`, 'mediasoup-worker');
}

/**
 * The path of a mediasoup worker binary: `MEDIASOUP_WORKER_BIN` when set, else the cached build,
 * else built now from the installed package's sources against Debian's libraries (minutes, once
 * per machine and mediasoup version) and cached outside the repo.
 */
export async function ensureMediasoupWorker(
  options: { log?: (line: string) => void; cacheDir?: string } = {},
): Promise<string> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const fromEnv = process.env.MEDIASOUP_WORKER_BIN;
  if (fromEnv && usable(fromEnv)) return fromEnv;
  const target = cachedWorkerPath(options.cacheDir);
  if (usable(target)) return target;

  await ensureAptPackages(buildPackages, 'to build the mediasoup worker');
  const require = createRequire(import.meta.url);
  const sources = path.join(path.dirname(require.resolve('mediasoup/package.json')), 'worker');
  const buildRoot = mkdtempSync(path.join(tmpdir(), 'gpc-mediasoup-build-'));
  try {
    log(
      `building the mediasoup ${mediasoupVersion()} worker from Debian's libraries (a few minutes, once per machine)`,
    );
    const workerDir = path.join(buildRoot, 'worker');
    cpSync(sources, workerDir, { recursive: true });
    patchMesonForSystemLibraries(workerDir);
    const buildDir = path.join(buildRoot, 'build');
    await runLogged('meson', ['setup', buildDir, '--buildtype=release'], workerDir, log);
    await runLogged('ninja', ['-C', buildDir, 'mediasoup-worker'], workerDir, log);
    const built = path.join(buildDir, 'mediasoup-worker');
    if (!existsSync(built)) throw new Error('the build finished without a mediasoup-worker binary');
    mkdirSync(path.dirname(target), { recursive: true });
    // copy then rename, so a concurrent reader never sees half a binary
    const partial = `${target}.${process.pid}.partial`;
    cpSync(built, partial);
    renameSync(partial, target);
    log(`mediasoup worker cached at ${target}`);
    return target;
  } finally {
    rmSync(buildRoot, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${await ensureMediasoupWorker()}\n`);
}
