import { spawn } from 'node:child_process';
import { globSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildImages } from '../../deploy/src/images';
import { commandExists, ensureAptPackages } from './apt';
import { ensureChromium } from './chromium';
import { stopAll, type StartedService } from './services';
import { loadLocalSettings, log, repoRoot } from './settings';
import { prepareTestServices } from './test-services';

function runStep(label: string, command: string, args: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  log(`${label}: ${path.basename(command)} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: 'inherit' });
    child.once('exit', (code) => resolve(code === 0));
  });
}

export function testFiles(): string[] {
  return globSync('**/test/**/*.test.ts', {
    cwd: repoRoot,
    exclude: (name) => name === 'node_modules' || name === '.state',
  }).sort();
}

/**
 * `npm test`: brings up what the tests need (Chromium, the mediasoup worker, PostgreSQL, Redis), then
 * typecheck, lint, format check and every test file. With file arguments it runs just those tests.
 */
export async function test(files: string[]): Promise<number> {
  const settings = loadLocalSettings();
  const started: StartedService[] = [];
  try {
    await ensureChromium(settings.chromiumPath);
    // the video call recovery test cuts the network with a nftables table of its own
    await ensureAptPackages(['nftables'], 'for the video call network-cut test');
    // deploy/test renders the Kubernetes manifests with kubectl's kustomize: Debian's kubectl where none is
    if (!(await commandExists('kubectl')))
      await ensureAptPackages(['kubernetes-client'], 'for the Kubernetes manifests test (kubectl kustomize)');
    const env = await prepareTestServices(settings, started);
    const bin = (name: string) => path.join(repoRoot, 'node_modules', '.bin', name);
    const failed: string[] = [];
    if (files.length === 0) {
      if (!(await runStep('typecheck', bin('tsc'), ['-p', 'tsconfig.json'], env))) failed.push('typecheck');
      if (!(await runStep('lint', bin('eslint'), ['--max-warnings=0', '.'], env))) failed.push('lint');
      if (!(await runStep('format', bin('prettier'), ['--check', '--log-level=warn', '.'], env)))
        failed.push('format');
    }
    const selected = files.length > 0 ? files : testFiles();
    // the browser tests share one production build of the pages, rather than each file making its own
    const testEnv = { ...env };
    if (selected.some((file) => file.split(path.sep).join('/').includes('web/test/'))) {
      const webDist = await mkdtemp(path.join(tmpdir(), 'gpc-web-dist-'));
      started.push({ name: 'web build', stop: () => rm(webDist, { recursive: true, force: true }) });
      const buildArgs = ['--import', 'tsx', path.join('web', 'src', 'build-main.ts')];
      if (await runStep('build pages', process.execPath, buildArgs, { ...env, WEB_DIST_DIR: webDist }))
        testEnv.TEST_WEB_DIST = webDist;
      else failed.push('build pages');
    }
    // the images' first build (a few minutes) here, not inside the test's timeout; a warm one takes seconds
    if (selected.some((file) => file.split(path.sep).join('/').endsWith('deploy/test/images.test.ts'))) {
      log('build images: buildah, cached by content (deploy/src/images.ts)');
      try {
        // built with buildah from a base made by debootstrap
        await ensureAptPackages(
          ['buildah', 'debootstrap'],
          'for the container images test (buildah, debootstrap)',
        );
        await buildImages({ workerBin: env.MEDIASOUP_WORKER_BIN!, cacheDir: settings.cacheDir, log });
      } catch (error) {
        log(`build images failed: ${error instanceof Error ? error.message : String(error)}`);
        failed.push('build images');
      }
    }
    const testArgs = [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=2',
      '--test-timeout=600000',
      ...selected,
    ];
    if (!(await runStep('tests', process.execPath, testArgs, testEnv))) failed.push('tests');
    if (failed.length > 0) log(`failed: ${failed.join(', ')}`);
    return failed.length > 0 ? 1 : 0;
  } catch (error) {
    process.stderr.write(`[setup] ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await stopAll(started, log);
  }
}
