import { spawn } from 'node:child_process';
import { globSync } from 'node:fs';
import { stopAll, type StartedService } from './services';
import { loadLocalSettings, log, repoRoot } from './settings';
import { prepareTestServices } from './test-services';

/**
 * `npm run bench`: every `bench/src/*.ts` in turn (or the ones named), each printing its own figures.
 * Benchmarks measure; they never pass or fail on timing.
 */
export async function bench(only: string[]): Promise<number> {
  const settings = loadLocalSettings();
  const started: StartedService[] = [];
  try {
    const env = await prepareTestServices(settings, started);
    const files = only.length > 0 ? only : globSync('bench/src/*.ts', { cwd: repoRoot }).sort();
    let failed = 0;
    for (const file of files) {
      log(`bench: ${file}`);
      const code = await new Promise<number | null>((resolve) => {
        spawn(process.execPath, ['--import', 'tsx', file], { cwd: repoRoot, env, stdio: 'inherit' }).once(
          'exit',
          resolve,
        );
      });
      if (code !== 0) failed++;
    }
    return failed > 0 ? 1 : 0;
  } finally {
    await stopAll(started, log);
  }
}
