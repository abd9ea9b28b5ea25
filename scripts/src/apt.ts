import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** True when `name` is on the PATH. */
export async function commandExists(name: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v "$1"`, 'sh', name]);
    return true;
  } catch {
    return false;
  }
}

async function missingPackages(packages: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const name of packages) {
    try {
      const { stdout } = await run('dpkg-query', ['-W', '-f=${Status}', name]);
      if (!stdout.includes('install ok installed')) missing.push(name);
    } catch {
      missing.push(name);
    }
  }
  return missing;
}

function streamed(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

let listsUpdated = false;

/**
 * Installs the Debian packages that are missing. As root it runs apt-get itself; otherwise it
 * stops with the exact command for the user to run, and why.
 */
export async function ensureAptPackages(packages: readonly string[], reason: string): Promise<void> {
  const missing = await missingPackages(packages);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing Debian packages ${reason}. Run:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}\nthen try again.`,
    );
  }
  process.stdout.write(`[setup] installing ${missing.join(' ')} (${reason})\n`);
  if (!listsUpdated) {
    await streamed('apt-get', ['update', '-q']);
    listsUpdated = true;
  }
  await streamed('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing]);
}
