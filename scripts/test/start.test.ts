import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../src/ports';
import { repoRoot } from '../src/settings';

/** Process ids of every descendant of `pid` (from /proc), to prove nothing is left behind. */
function descendants(pid: number): number[] {
  const result = spawnSync('ps', ['-e', '-o', 'pid=,ppid=']);
  const children = new Map<number, number[]>();
  for (const line of result.stdout.toString().trim().split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (child === undefined || parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const walk = (id: number) => {
    for (const child of children.get(id) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function collect(child: ChildProcess): { text: () => string } {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { text: () => output };
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('npm start, as a user runs it', () => {
  const env: Record<string, string> = {};
  let stateDir: string;

  before(async () => {
    stateDir = mkdtempSync(path.join(tmpdir(), 'gpc-start-'));
    // ports of its own, so a developer's running `npm start` does not collide with the test
    const names = [
      'WEB',
      'TRIAGE',
      'SIGNALLING',
      'RECORD',
      'FHIR',
      'S3',
      'MAIL_SMTP',
      'MAIL_WEB',
      'RTC',
      'PDS',
      'OIDC',
      'MESH',
      'GP_INBOX',
      'TURN',
      'TURN_TLS',
    ];
    for (const name of names) env[`GPC_${name}_PORT`] = String(await freePort());
    env.GPC_STATE_DIR = stateDir;
    env.GPC_DATABASE_URL = `${(process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres').replace(/\/[^/]*$/, '')}/gpc_start_test`;
  });

  after(() => rmSync(stateDir, { recursive: true, force: true }));

  it('brings everything up, refuses a second start on the same ports, and stops cleanly on Ctrl-C', async () => {
    const first = spawn(process.execPath, ['--import', 'tsx', 'scripts/src/cli.ts', 'start'], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const firstOutput = collect(first);
    const firstExit = new Promise<number | null>((resolve) => first.once('exit', resolve));
    try {
      await waitFor(
        () => firstOutput.text().includes('Press Ctrl-C to stop.') || first.exitCode !== null,
        180_000,
        'start',
      );
      assert.match(firstOutput.text(), /GP Consult is running:/, firstOutput.text());

      const urls = [
        `http://127.0.0.1:${env.GPC_WEB_PORT}/`,
        `http://127.0.0.1:${env.GPC_TRIAGE_PORT}/health`,
        `http://127.0.0.1:${env.GPC_SIGNALLING_PORT}/health`,
        `http://127.0.0.1:${env.GPC_RECORD_PORT}/health`,
        `http://127.0.0.1:${env.GPC_FHIR_PORT}/fhir/R4/metadata`,
        `http://127.0.0.1:${env.GPC_MESH_PORT}/messageexchange/_ping`,
        `http://127.0.0.1:${env.GPC_GP_INBOX_PORT}/`,
      ];
      for (const url of urls) {
        const response = await fetch(url);
        assert.equal(response.status, 200, url);
        await response.arrayBuffer();
      }
      for (const url of urls)
        assert.ok(firstOutput.text().includes(new URL(url).origin), `banner lists ${url}`);
      // the TURN relay (coturn) on its own ports: web/test/turn.e2e.test.ts shows calls through one
      assert.ok(
        firstOutput.text().includes(`turn:127.0.0.1:${env.GPC_TURN_PORT} (UDP+TCP)`),
        'banner lists TURN',
      );
      // services log JSON; the terminal shows one readable line per entry, and no line per health probe
      const lines = stripVTControlCharacters(firstOutput.text()).split('\n');
      assert.deepEqual(
        lines.filter((line) => /^\[[\w -]+\] \{"level"/.test(line)),
        [],
        'no raw JSON log lines',
      );
      assert.ok(
        lines.some((line) => /^\[triage\] \[\d\d:\d\d:\d\d\] INFO: /.test(line)),
        'triage logs as readable lines',
      );
      assert.doesNotMatch(firstOutput.text(), /"url":"\/health"/, 'health checks are not logged');
      // the banner's staff password signs in, even where the database has the practice from an earlier checkout
      const password = /password (\S+)/.exec(firstOutput.text())?.[1];
      const signIn = await fetch(`http://127.0.0.1:${env.GPC_TRIAGE_PORT}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ odsCode: 'A81001', email: 'clinician@riverside.example', password }),
      });
      assert.equal(signIn.status, 200, await signIn.text());
      // triage signs tokens with this checkout's own key set (made once, private to its owner); the
      // call node verifies with the public keys triage serves, which carry no private part
      assert.equal(statSync(path.join(stateDir, 'token-keys.json')).mode & 0o777, 0o600);
      const jwks = await fetch(`http://127.0.0.1:${env.GPC_TRIAGE_PORT}/.well-known/jwks.json`);
      const { keys } = (await jwks.json()) as { keys: Record<string, unknown>[] };
      assert.ok(
        keys.length > 0 && keys.every((key) => key.kty === 'OKP' && !('d' in key)),
        JSON.stringify(keys),
      );
      // the development practice's form offers NHS login, which starts at the local stand-in
      const offer = await fetch(`http://127.0.0.1:${env.GPC_TRIAGE_PORT}/practices/A81001/nhs-login/offer`);
      assert.deepEqual(await offer.json(), { offered: true });
      const nhsLogin = await fetch(`http://127.0.0.1:${env.GPC_WEB_PORT}/api/practices/A81001/nhs-login`, {
        redirect: 'manual',
      });
      assert.match(
        nhsLogin.headers.get('location') ?? '',
        new RegExp(`^http://127\\.0\\.0\\.1:${env.GPC_OIDC_PORT}/nhs-login/authorize\\?`),
      );

      // practices' credentials are encrypted under this checkout's own key, made once in the state
      // folder for triage and the record worker; the rotate command re-encrypts with it, counts only
      assert.equal(statSync(path.join(stateDir, 'secrets-keys.json')).mode & 0o777, 0o600);
      const rotated = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'scripts/src/cli.ts', 'secrets:rotate'],
        {
          cwd: repoRoot,
          env: { ...process.env, ...env },
          timeout: 60_000,
        },
      );
      assert.equal(rotated.status, 0, rotated.stderr.toString());
      assert.match(rotated.stdout.toString(), /credentials that could not be read: 0/);

      // a second start on the same ports says so at once instead of hanging
      const startedAt = Date.now();
      const second = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/src/cli.ts', 'start'], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        timeout: 60_000,
      });
      assert.notEqual(second.status, 0);
      assert.match(
        second.stderr.toString(),
        new RegExp(`port ${env.GPC_WEB_PORT} \\(web\\) is already in use`),
      );
      assert.ok(Date.now() - startedAt < 30_000, 'the second start fails fast');

      const processes = descendants(first.pid!);
      assert.ok(processes.length >= 6, `services and mediasoup worker running (${processes.length})`);
      first.kill('SIGINT');
      assert.equal(await firstExit, 0);
      await waitFor(() => processes.every((pid) => !alive(pid)), 15_000, 'every child to exit');
    } finally {
      // after a failed assertion: stop it as Ctrl-C does, so its services are not left running
      if (first.exitCode === null) {
        const services = descendants(first.pid!);
        first.kill('SIGINT');
        await Promise.race([firstExit, new Promise((resolve) => setTimeout(resolve, 15_000))]);
        for (const pid of [first.pid!, ...services].filter(alive)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone in the meantime
          }
        }
      }
    }
  });

  it('stops every service it started when one exits during start-up, and exits 1', async () => {
    // processes of this start carry its state folder in their environment: found even once orphaned
    const ours = (): number[] =>
      readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
        .filter((name) => {
          try {
            return readFileSync(`/proc/${name}/environ`, 'utf8')
              .split('\0')
              .includes(`GPC_STATE_DIR=${stateDir}`);
          } catch {
            return false; // gone, or not ours to read
          }
        })
        .map(Number);
    // a misspelt setting: the local MESH refuses its configuration and exits while the rest start
    const failing = spawn(process.execPath, ['--import', 'tsx', 'scripts/src/cli.ts', 'start'], {
      cwd: repoRoot,
      env: { ...process.env, ...env, MESH_NOT_A_SETTING: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collect(failing);
    const exit = new Promise<number | null>((resolve) => failing.once('exit', resolve));
    try {
      assert.equal(await exit, 1, output.text());
      assert.match(output.text(), /mesh exited unexpectedly/);
      // stopped before it exited: nothing is left to hold the ports of the next start
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.deepEqual(ours(), [], output.text());
    } finally {
      for (const pid of ours()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone in the meantime
        }
      }
    }
  });
});
