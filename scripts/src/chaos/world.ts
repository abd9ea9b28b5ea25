/**
 * Everything the chaos run starts, on loopback only and of its own: a PostgreSQL cluster and a
 * Redis (deploy's redis.conf, append-only file) in a temporary folder, the local stand-ins, and
 * triage, the call node and the record worker as processes with `npm start`'s environment (its own
 * ports, state folder and keys). The machine's PostgreSQL and Redis are never touched.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  freePort,
  startFaultProxy,
  startPostgres,
  startRedis,
  type FaultProxy,
  type PostgresServer,
  type RedisServer,
} from '@gpc/test-support';
import { devSecretsKeyring } from '../dev-secrets-keys';
import {
  devMeshPractice,
  devMeshStaffEmails,
  devPractice,
  devPracticeSender,
  devStaffEmails,
  seedDevPractice,
} from '../dev-seed';
import { meshUrl } from '../mesh-dev';
import { assertPortsFree } from '../ports';
import { loadLocalSettings, type LocalSettings } from '../settings';
import { applicationSpecs, localCallNodeId, standInSpecs } from '../start';
import { redisCallNodes } from '../../../web/src/call-nodes';
import { createStaticServer } from '../../../web/src/static-app';
import { ChaosProcess, type UnexpectedExit } from './process';

/** The call node runs two media workers, so a killed one leaves a survivor for its calls. */
const mediaWorkers = 2;

/**
 * Sweeps shorter than production's (30 s interval, 2 min untouched), so owed work a Redis without
 * its data lost is queued again within the run's settling time; said in the run's header.
 */
export const sweepEnv = {
  TRIAGE_SWEEP_INTERVAL_MS: '5000',
  TRIAGE_SWEEP_AFTER_MS: '15000',
  RECORD_SWEEP_INTERVAL_MS: '5000',
  RECORD_SWEEP_AFTER_MS: '15000',
};

export interface World {
  dir: string;
  settings: LocalSettings;
  postgres: PostgresServer;
  redis: RedisServer;
  /** Between the record worker and the local FHIR server: the GP system's endpoint, made to fail. */
  fhirProxy: FaultProxy;
  /** The local FHIR server itself (not through the proxy), for the invariants. */
  fhirBase: string;
  mailApi: string;
  pool: pg.Pool;
  processes: Map<string, ChaosProcess>;
  unexpectedExits: UnexpectedExit[];
  /** The development practice's staff who work the load (a clinician, and an admin who starts calls). */
  staff: { odsCode: string; password: string; clinician: string; admin: string };
  /**
   * The second development practice, which files by GP Connect Send Document: over the MESH
   * stand-in (process `mesh`) to the simulated GP system (process `gp-inbox`), answering with ITK3
   * acknowledgements. Its staff share the run's password.
   */
  meshStaff: { odsCode: string; password: string; clinician: string; admin: string };
  /** The MESH stand-in's base address (its admin fault switch is under /messageexchange/admin). */
  meshUrl: string;
  /** The simulated GP system's address: /admin/received lists what it took, /admin/faults its switches. */
  gpInboxUrl: string;
  process(name: string): ChaosProcess;
  /**
   * The call nodes, each announced for placement under its id: `signalling` (npm start's) and a
   * second one, `signalling-2`, so a call node's loss leaves a survivor for its calls.
   */
  callNodes: { process: string; nodeId: string; port: number }[];
  /** Leaves the run's folder (each process's log, the stand-ins' state files) in place at `close`. */
  keepFiles(): void;
  close(): Promise<void>;
}

/** Two consecutive ports free for UDP and TCP, for the call node's WebRtcServers. */
async function rtcPorts(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const first = 41000 + Math.floor(Math.random() * 8000);
    const claims = [0, 1].map((i) => ({ port: first + i, what: 'rtc', setting: '', udp: true }));
    if (
      await assertPortsFree(claims).then(
        () => true,
        () => false,
      )
    )
      return first;
  }
  throw new Error('no two consecutive free ports for the WebRtcServers');
}

async function chaosSettings(dir: string, databaseUrl: string, redisUrl: string): Promise<LocalSettings> {
  return {
    ...loadLocalSettings({}),
    databaseUrl,
    testDatabaseUrl: databaseUrl,
    redisUrl,
    webPort: await freePort(),
    triagePort: await freePort(),
    signallingPort: await freePort(),
    recordPort: await freePort(),
    fhirPort: await freePort(),
    s3Port: await freePort(),
    pdsPort: await freePort(),
    oidcPort: await freePort(),
    // the MESH stand-in and the simulated GP system too: on npm start's 8106/8107 a run beside it fails one or the other
    meshPort: await freePort(),
    gpInboxPort: await freePort(),
    mailSmtpPort: await freePort(),
    mailWebPort: await freePort(),
    rtcPort: await rtcPorts(),
    mediaWorkers,
    stateDir: path.join(dir, 'state'),
  };
}

/** Warnings and worse in each process's log; GPC_CHAOS_LOG_LEVEL=info to see what each did. */
const logLevel = process.env.GPC_CHAOS_LOG_LEVEL ?? 'warn';
const quietLogs = { TRIAGE_LOG_LEVEL: logLevel, RECORD_LOG_LEVEL: logLevel, SIGNALLING_LOG_LEVEL: logLevel };

/**
 * Triage as behind a load balancer on loopback: each patient of the load comes from an address of
 * their own (X-Forwarded-For), so the public form's per-client limit counts each, as in production.
 */
const behindProxy = { TRIAGE_TRUSTED_PROXIES: '127.0.0.1' };

/** Builds the world step by step; whatever was built is in `cleanups` if a step fails. */
export async function startWorld(workerBin: string | undefined, say: (line: string) => void): Promise<World> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gpc-chaos-'));
  let keep = false;
  const cleanups: (() => Promise<void>)[] = [
    () => Promise.resolve(keep ? undefined : rmSync(dir, { recursive: true, force: true })),
  ];
  const close = async () => {
    for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const postgres = await startPostgres();
    cleanups.push(() => postgres.remove());
    const redis = await startRedis();
    cleanups.push(() => redis.remove());
    const databaseUrl = await postgres.createDatabase('gpconsult_chaos');
    say(`PostgreSQL of its own on port ${postgres.port}, Redis of its own at ${redis.url} (AOF on)`);

    const settings = await chaosSettings(dir, databaseUrl, redis.url);
    mkdirSync(settings.stateDir, { recursive: true });
    const logDir = path.join(dir, 'logs');
    mkdirSync(logDir);
    const unexpectedExits: UnexpectedExit[] = [];
    const processes = new Map<string, ChaosProcess>();
    cleanups.push(async () => {
      for (const service of [...processes.values()].reverse()) await service.stop();
    });
    const add = (spec: ChaosProcess['spec']) => {
      const service = new ChaosProcess(spec, logDir, (exit) => unexpectedExits.push(exit));
      processes.set(spec.name, service);
      return service;
    };
    const standIns = standInSpecs(settings).map(add);
    await Promise.all(standIns.map((service) => service.start()));
    const fhirBase = `http://127.0.0.1:${settings.fhirPort}/fhir/R4`;
    const fhirProxy = await startFaultProxy(fhirBase);
    cleanups.push(() => fhirProxy.close());

    // no worker binary: no call node (`--no-calls`)
    const apps = applicationSpecs(settings, workerBin ?? '')
      .filter((spec) => spec.name !== 'web' && (workerBin !== undefined || spec.name !== 'signalling'))
      .map((spec) =>
        add({
          ...spec,
          env: { ...spec.env, ...sweepEnv, ...quietLogs, ...(spec.name === 'triage' ? behindProxy : {}) },
        }),
      );
    // a second call node, announced for placement like the first, with ports of its own
    const callNodes: World['callNodes'] = [];
    const first = apps.find((service) => service.name === 'signalling');
    if (first) {
      callNodes.push({
        process: 'signalling',
        nodeId: localCallNodeId(settings),
        port: settings.signallingPort,
      });
      const second = { process: 'signalling-2', nodeId: 'chaos-call-node-2', port: await freePort() };
      apps.push(
        add({
          ...first.spec,
          name: second.process,
          env: {
            ...first.spec.env,
            SIGNALLING_PORT: String(second.port),
            SIGNALLING_RTC_PORT: String(await rtcPorts()),
            SIGNALLING_MEDIA_WORKERS: '1',
            SIGNALLING_NODE_ID: second.nodeId,
            SIGNALLING_PUBLIC_URL: `http://127.0.0.1:${settings.webPort}/call-node/${second.nodeId}`,
          },
          readyUrl: `http://127.0.0.1:${second.port}/health`,
        }),
      );
      callNodes.push(second);
    }
    // the site's web server, for its routes to the call nodes only (`/call-node/<id>/socket.io`, as
    // the pages reach them): no pages are built for the run
    if (first) {
      const directory = redisCallNodes(redis.url);
      cleanups.push(() => Promise.resolve(directory.close()));
      const site = createStaticServer({
        distDir: path.join(dir, 'no-pages'),
        triageUrl: `http://127.0.0.1:${settings.triagePort}`,
        signallingUrl: `http://127.0.0.1:${settings.signallingPort}`,
        publicUrl: `http://127.0.0.1:${settings.webPort}`,
        callNodes: directory,
      });
      await new Promise<void>((resolve) => site.listen(settings.webPort, '127.0.0.1', resolve));
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            site.closeAllConnections();
            site.close(() => resolve());
          }),
      );
    }
    // triage migrates the database; the others start once it has
    await apps[0]!.start();
    await Promise.all(apps.slice(1).map((service) => service.start()));

    const password = 'chaos run staff password';
    await seedDevPractice(
      databaseUrl,
      password,
      fhirProxy.url,
      {
        provider: 'smtp',
        host: '127.0.0.1',
        port: settings.mailSmtpPort,
        secure: false,
        from: devPracticeSender,
      },
      devSecretsKeyring(settings.stateDir),
    );
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
    // PostgreSQL is crashed on purpose: an idle client's error is expected, not fatal
    pool.on('error', () => undefined);
    cleanups.push(() => pool.end());
    // the run's clinicians sign in with a password alone (no authenticator app in a script)
    await pool.query(`UPDATE practice SET mfa_required_roles = '{}' WHERE ods_code = ANY($1)`, [
      [devPractice.odsCode, devMeshPractice.odsCode],
    ]);

    return {
      dir,
      settings,
      postgres,
      redis,
      fhirProxy,
      fhirBase,
      mailApi: `http://127.0.0.1:${settings.mailWebPort}`,
      pool,
      processes,
      unexpectedExits,
      staff: {
        odsCode: devPractice.odsCode,
        password,
        clinician: devStaffEmails.clinician,
        admin: devStaffEmails.admin,
      },
      meshStaff: {
        odsCode: devMeshPractice.odsCode,
        password,
        clinician: devMeshStaffEmails.clinician,
        admin: devMeshStaffEmails.admin,
      },
      meshUrl: meshUrl(settings),
      gpInboxUrl: `http://127.0.0.1:${settings.gpInboxPort}`,
      process(name) {
        const found = processes.get(name);
        if (!found) throw new Error(`no process ${name}`);
        return found;
      },
      callNodes,
      keepFiles() {
        keep = true;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
