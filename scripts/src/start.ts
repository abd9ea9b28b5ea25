import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  devMeshPractice,
  devMeshStaffEmails,
  devPractice,
  devPracticeSender,
  devStaffEmails,
  seedDevPractice,
} from './dev-seed';
import { devSecretsEnv, devSecretsKeyring } from './dev-secrets-keys';
import { ensureMediasoupWorker } from './mediasoup-worker';
import { assertPortsFree } from './ports';
import { ensurePostgres } from './postgres';
import { ensureRedis } from './redis';
import { cis2Issuer, localCis2Env } from './cis2-dev';
import { localNhsLoginEnv, nhsLoginIssuer, oidcProviderSpec } from './nhs-login-dev';
import { gpInboxUrl, localMeshEnv, meshSpecs, meshUrl } from './mesh-dev';
import { watchReadiness, type ReadinessTarget, type ReadinessWatch } from './readiness';
import { ServiceProcess, stopAll, type ServiceSpec, type StartedService } from './services';
import { loadLocalSettings, log, repoRoot, type LocalSettings } from './settings';
import { devTurnSecret, ensureCoturn, ensureTurnCertificate, startTurnServer, turnUrls } from './turn';

/** Development secrets, made once per checkout and kept in the state folder so they survive restarts. */
function devSecrets(stateDir: string): { staffPassword: string } {
  const file = path.join(stateDir, 'dev-secrets.json');
  const saved = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { staffPassword?: string })
    : undefined;
  if (saved?.staffPassword) return { staffPassword: saved.staffPassword };
  const secrets = { staffPassword: randomBytes(9).toString('base64url') };
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

/**
 * Triage's token signing keys for development (an Ed25519 JWK set, private keys), made once per
 * checkout in the state folder so tokens survive restarts. Only triage gets them: the call node
 * fetches the public halves from triage's JWKS. To try a rotation, put a new key first in the file.
 */
export function devTokenKeys(stateDir: string): string {
  const file = path.join(stateDir, 'token-keys.json');
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const { privateKey } = generateKeyPairSync('ed25519');
  const kid = `dev-${randomBytes(4).toString('hex')}`;
  const keys = JSON.stringify({
    keys: [{ ...privateKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }],
  });
  writeFileSync(file, keys, { mode: 0o600 });
  return keys;
}

/**
 * The call node's key for posting call data to triage, made once per checkout in the state folder:
 * the private half for signalling (SIGNALLING_CALL_EVENTS_KEY), the public half, as a JWK set, for
 * triage (TRIAGE_CALL_NODE_KEYS). It opens triage's call-events endpoint and nothing else.
 */
export function devCallNodeKey(stateDir: string): { privateJwk: string; publicJwks: string } {
  const file = path.join(stateDir, 'call-node-key.json');
  let key: Record<string, unknown>;
  if (existsSync(file)) key = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  else {
    const { privateKey } = generateKeyPairSync('ed25519');
    key = { ...privateKey.export({ format: 'jwk' }), kid: `call-node-${randomBytes(4).toString('hex')}` };
    writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  }
  const { kty, crv, x, kid } = key;
  return {
    privateJwk: JSON.stringify(key),
    publicJwks: JSON.stringify({ keys: [{ kty, crv, x, kid, alg: 'EdDSA', use: 'sig' }] }),
  };
}

/**
 * The development application's key for the local PDS stand-in (application-restricted access), made
 * once per checkout in the state folder: the private half for triage, the public half (a JWKS file)
 * registered with the stand-in.
 */
function devPdsKey(stateDir: string): {
  apiKey: string;
  kid: string;
  privateKeyPem: string;
  jwksFile: string;
} {
  const file = path.join(stateDir, 'pds-key.json');
  const jwksFile = path.join(stateDir, 'pds-jwks.json');
  if (existsSync(file) && existsSync(jwksFile)) {
    return {
      ...(JSON.parse(readFileSync(file, 'utf8')) as { apiKey: string; kid: string; privateKeyPem: string }),
      jwksFile,
    };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
  const key = {
    apiKey: `dev-${randomUUID()}`,
    kid: `dev-${randomBytes(4).toString('hex')}`,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: key.kid, alg: 'RS512', use: 'sig' };
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  return { ...key, jwksFile };
}

export const attachmentsBucket = 'gpc-attachments';

const host = '127.0.0.1';

/** Every process `npm start` runs: the local stand-ins first, then the services that use them. */
function serviceSpecs(settings: LocalSettings, workerBin: string): ServiceSpec[] {
  return [...standInSpecs(settings), ...applicationSpecs(settings, workerBin)];
}

/** What production gets elsewhere: the GP system's FHIR endpoint, S3, the practice's mail relay, PDS. */
export function standInSpecs(settings: LocalSettings): ServiceSpec[] {
  const fhirBase = `http://${host}:${settings.fhirPort}/fhir/R4`;
  const pdsKey = devPdsKey(settings.stateDir);
  return [
    {
      name: 'pds',
      entry: 'local/pds-server/src/server.ts',
      env: {
        PDS_HOST: host,
        PDS_PORT: String(settings.pdsPort),
        PDS_API_KEY: pdsKey.apiKey,
        PDS_JWKS_FILE: pdsKey.jwksFile,
      },
      readyUrl: `${pdsBase(settings)}/_ping`,
    },
    oidcProviderSpec(settings),
    ...meshSpecs(settings),
    {
      name: 'fhir',
      entry: 'local/fhir-server/src/server.ts',
      env: {
        FHIR_HOST: host,
        FHIR_PORT: String(settings.fhirPort),
        FHIR_DATA_FILE: path.join(settings.stateDir, 'fhir', 'resources.json'),
      },
      readyUrl: `${fhirBase}/metadata`,
    },
    {
      name: 's3',
      entry: 'local/s3-server/src/server.ts',
      env: {
        S3_HOST: host,
        S3_PORT: String(settings.s3Port),
        S3_DIRECTORY: path.join(settings.stateDir, 's3'),
        S3_BUCKETS: attachmentsBucket,
      },
      readyUrl: `http://${host}:${settings.s3Port}/`,
    },
    {
      name: 'mail',
      entry: 'local/mail-catcher/src/server.ts',
      env: {
        MAIL_HOST: host,
        MAIL_SMTP_PORT: String(settings.mailSmtpPort),
        MAIL_WEB_PORT: String(settings.mailWebPort),
      },
      readyUrl: `http://${host}:${settings.mailWebPort}/api/healthz`,
    },
  ];
}

/** The local S3 server's bucket and keys, in a service's own configuration prefix. */
function localS3Env(prefix: 'TRIAGE' | 'RECORD', settings: LocalSettings): Record<string, string> {
  return {
    [`${prefix}_S3_ENDPOINT`]: `http://${host}:${settings.s3Port}`,
    [`${prefix}_S3_BUCKET`]: attachmentsBucket,
    [`${prefix}_S3_ACCESS_KEY_ID`]: 'S3RVER',
    [`${prefix}_S3_SECRET_ACCESS_KEY`]: 'S3RVER',
    [`${prefix}_S3_FORCE_PATH_STYLE`]: 'true',
  };
}

const pdsBase = (settings: LocalSettings) =>
  `http://${host}:${settings.pdsPort}/personal-demographics/FHIR/R4`;

/** Triage traces patients against the local PDS stand-in, with the development application's key. */
function localPdsEnv(settings: LocalSettings): Record<string, string> {
  const key = devPdsKey(settings.stateDir);
  return {
    TRIAGE_PDS_BASE_URL: pdsBase(settings),
    TRIAGE_PDS_TOKEN_URL: `http://${host}:${settings.pdsPort}/oauth2/token`,
    TRIAGE_PDS_API_KEY: key.apiKey,
    TRIAGE_PDS_PRIVATE_KEY: key.privateKeyPem,
    TRIAGE_PDS_KID: key.kid,
  };
}

/** The service itself: triage, signalling with its media workers, the record worker, the web pages. */
export function applicationSpecs(settings: LocalSettings, workerBin: string): ServiceSpec[] {
  return [
    {
      name: 'triage',
      entry: 'triage/src/server.ts',
      env: {
        TRIAGE_HOST: host,
        TRIAGE_PORT: String(settings.triagePort),
        TRIAGE_DATABASE_URL: settings.databaseUrl,
        TRIAGE_REDIS_URL: settings.redisUrl,
        ...localS3Env('TRIAGE', settings),
        TRIAGE_PUBLIC_WEB_URL: `http://${host}:${settings.webPort}`,
        // the development practice's GOV.UK Notify and mail relay are local stand-ins on loopback
        TRIAGE_OUTBOUND_ALLOW_LOOPBACK_HTTP: 'true',
        TRIAGE_SIGNING_KEYS: devTokenKeys(settings.stateDir),
        TRIAGE_CALL_NODE_KEYS: devCallNodeKey(settings.stateDir).publicJwks,
        // calls are placed on the call nodes announced in Redis (here the one), and the pages follow
        TRIAGE_CALL_PLACEMENT: 'true',
        ...localPdsEnv(settings),
        ...localNhsLoginEnv(settings),
        ...localCis2Env(settings),
        ...devSecretsEnv('TRIAGE', settings.stateDir),
      },
      readyUrl: `http://${host}:${settings.triagePort}/health`,
    },
    signallingSpec(settings, workerBin),
    {
      name: 'record',
      entry: 'record/src/server.ts',
      env: {
        RECORD_HOST: host,
        RECORD_PORT: String(settings.recordPort),
        RECORD_DATABASE_URL: settings.databaseUrl,
        RECORD_REDIS_URL: settings.redisUrl,
        ...localS3Env('RECORD', settings),
        ...devSecretsEnv('RECORD', settings.stateDir),
        // a developer closing a request wants to see it filed, not wait out a long backoff
        RECORD_RETRY_BASE_DELAY_MS: '2000',
        RECORD_SWEEP_AFTER_MS: '30000',
        // the development practice's GP system is the local FHIR server on loopback
        RECORD_OUTBOUND_ALLOW_LOOPBACK_HTTP: 'true',
        // our MESH mailbox on the local MESH stand-in, for the practice that files by Send Document
        ...localMeshEnv(settings),
      },
      // its /health needs Redis too; it runs (and says it is not ready) while Redis is down
      readyUrl: `http://${host}:${settings.recordPort}/readyz`,
      startedWhenAnswering: true,
    },
    {
      name: 'web',
      entry: 'web/src/server.ts',
      env: {
        WEB_HOST: host,
        WEB_PORT: String(settings.webPort),
        WEB_TRIAGE_URL: `http://${host}:${settings.triagePort}`,
        WEB_SIGNALLING_URL: `http://${host}:${settings.signallingPort}`,
        // /call-node/<id>/socket.io goes to the call node announced in Redis under that id
        WEB_REDIS_URL: settings.redisUrl,
      },
      readyUrl: `http://${host}:${settings.webPort}/`,
    },
  ];
}

/**
 * npm start's one call node, as it announces itself for placement: named by its port, so two
 * `npm start`s on other ports sharing one Redis do not announce under one id.
 */
export const localCallNodeId = (settings: LocalSettings): string =>
  `local-call-node-${settings.signallingPort}`;

/**
 * The call node: signalling with the mediasoup workers in the same process. It holds no key that
 * signs: it verifies call tokens with triage's public keys, fetched from triage's JWKS.
 */
function signallingSpec(settings: LocalSettings, workerBin: string): ServiceSpec {
  return {
    name: 'signalling',
    entry: 'signalling/src/server.ts',
    env: {
      MEDIASOUP_WORKER_BIN: workerBin,
      SIGNALLING_HOST: host,
      SIGNALLING_PORT: String(settings.signallingPort),
      SIGNALLING_JWKS_URL: `http://${host}:${settings.triagePort}/.well-known/jwks.json`,
      // call data goes to triage, signed with the call node's own key
      SIGNALLING_CALL_EVENTS_URL: `http://${host}:${settings.triagePort}`,
      SIGNALLING_CALL_EVENTS_KEY: devCallNodeKey(settings.stateDir).privateJwk,
      SIGNALLING_REDIS_URL: settings.redisUrl,
      SIGNALLING_MEDIA_WORKERS: String(settings.mediaWorkers),
      SIGNALLING_RTC_PORT: String(settings.rtcPort),
      SIGNALLING_RTC_LISTEN_IP: host,
      SIGNALLING_RTC_ANNOUNCED_ADDRESS: settings.announcedAddress,
      // the local TURN relay: participants get time-limited credentials for it with each join
      SIGNALLING_TURN_URLS: turnUrls(host, settings.turnPort, settings.turnTlsPort).join(','),
      SIGNALLING_TURN_SECRET: devTurnSecret(settings.stateDir),
      // announced in Redis for placement: the pages reach it through the web server's /call-node/<id>
      SIGNALLING_NODE_ID: localCallNodeId(settings),
      SIGNALLING_PUBLIC_URL: `http://${host}:${settings.webPort}/call-node/${localCallNodeId(settings)}`,
    },
    readyUrl: `http://${host}:${settings.signallingPort}/health`,
    // announced for placement, it would drain on SIGTERM (wait for its calls to end): Ctrl-C stops it at once
    stopSignal: 'SIGINT',
  };
}

/** The local TURN relay (coturn), installed if missing, with its certificate made once in the state folder. */
async function startLocalTurn(settings: LocalSettings): Promise<StartedService> {
  await ensureCoturn();
  log(`starting the TURN relay (coturn) on ${host}:${settings.turnPort} and TLS ${settings.turnTlsPort}`);
  return startTurnServer({
    host,
    port: settings.turnPort,
    tlsPort: settings.turnTlsPort,
    relayMinPort: settings.turnRelayMinPort,
    relayMaxPort: settings.turnRelayMaxPort,
    secret: devTurnSecret(settings.stateDir),
    configFile: path.join(settings.stateDir, 'turnserver.conf'),
    ...(await ensureTurnCertificate(settings.stateDir)),
  });
}

/** The services whose `/readyz` says whether what they need (PostgreSQL, Redis, media workers) answers. */
function readinessTargets(settings: LocalSettings): ReadinessTarget[] {
  return [
    { name: 'triage', url: `http://${host}:${settings.triagePort}/readyz` },
    { name: 'signalling', url: `http://${host}:${settings.signallingPort}/readyz` },
    { name: 'record', url: `http://${host}:${settings.recordPort}/readyz` },
  ];
}

function banner(settings: LocalSettings, started: Set<string>, readiness: string[]): string {
  const own = (name: string) => (started.has(name) ? 'started by npm start' : "this machine's own");
  const redacted = new URL(settings.databaseUrl);
  if (redacted.password) redacted.password = '***';
  const lastRtcPort = settings.rtcPort + settings.mediaWorkers - 1;
  const rows: [string, string][] = [
    ['Web (patient pages, staff dashboard)', `http://127.0.0.1:${settings.webPort}/`],
    ['Triage API (OpenAPI at /docs)', `http://127.0.0.1:${settings.triagePort}/`],
    ['Signalling (socket.io)', `http://127.0.0.1:${settings.signallingPort}/`],
    ['Record write-back worker (health)', `http://127.0.0.1:${settings.recordPort}/health`],
    ['Local FHIR R4 server', `http://127.0.0.1:${settings.fhirPort}/fhir/R4`],
    ['Local PDS (patient tracing)', pdsBase(settings)],
    ['Local NHS login (OIDC provider)', nhsLoginIssuer(settings)],
    ['Local NHS CIS2 (staff sign-in, same provider)', cis2Issuer(settings)],
    ['Local MESH (GP Connect Send Document transport)', `${meshUrl(settings)}/messageexchange`],
    ['Simulated GP system (documents received over MESH)', gpInboxUrl(settings)],
    ['Local S3 (key/secret S3RVER)', `http://127.0.0.1:${settings.s3Port}/${attachmentsBucket}`],
    ["Mail catcher (patients' emails land here)", `http://127.0.0.1:${settings.mailWebPort}/`],
    [
      'TURN relay (coturn)',
      `turn:127.0.0.1:${settings.turnPort} (UDP+TCP), turns:127.0.0.1:${settings.turnTlsPort} (TLS, self-signed)`,
    ],
    [
      'mediasoup WebRtcServer (UDP+TCP)',
      `127.0.0.1:${settings.rtcPort}${lastRtcPort > settings.rtcPort ? `-${lastRtcPort}` : ''}`,
    ],
    ['PostgreSQL', `${redacted.toString()} (${own('PostgreSQL')})`],
    ['Redis', `${settings.redisUrl} (${own('Redis')})`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    '',
    'GP Consult is running:',
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    '',
    `Online form (development practice ${devPractice.odsCode}): http://127.0.0.1:${settings.webPort}/form.html?practice=${devPractice.odsCode}`,
    `Widget on a sample practice website:          http://127.0.0.1:${settings.webPort}/widget-demo.html`,
    'The form offers "Continue with NHS login": the local stand-in lists its test patients (P9 and P5) and their passwords.',
    'Staff sign-in offers "Sign in with NHS Care Identity" (CIS2) for the practice: its stand-in lists test staff (a GP, a practice manager, a receptionist, a GP elsewhere) and passcodes.',
    `Staff dashboard: http://127.0.0.1:${settings.webPort}/staff.html, practice ${devPractice.odsCode}, ${Object.values(devStaffEmails).join(' / ')}, password ${devSecrets(settings.stateDir).staffPassword}`,
    'The practice requires two-factor authentication of its admin and clinician: at their first sign-in they set it up with any authenticator app (the receptionist signs in with the password alone; settings.html changes who must).',
    `Practice ${devMeshPractice.odsCode} files by GP Connect Send Document over the local MESH: form ?practice=${devMeshPractice.odsCode}, staff ${Object.values(devMeshStaffEmails).join(' / ')} (same password). Its patients in the local PDS: Asha KHAN (NHS number 900 000 0130, born 12 October 1988, postcode LS8 1AB): confirm her identity and close the request, it shows "Sent", then "Filed in the GP system's workflow"; Tom BAKER (900 000 0149, 22 January 1964, LS9 4CD): the GP system answers "patient not registered at this practice" (30002). The simulated GP system lists what it received, PDF included; other refusals: PUT {"infrastructureCode":"20009"} or {"noAck":true} to its /admin/faults.`,
    '',
    'Try a video call: sign in to the staff dashboard as the clinician, open a request and choose',
    "Start video call; open the patient's link it shows in another window.",
    'To force a call through the TURN relay, add ?relay=udp (or tcp, or tls: Chromium then needs',
    '--ignore-certificate-errors for the self-signed certificate) before the # of both call pages.',
    '',
    // a service waiting for a dependency keeps running and retrying; a line follows when it changes
    ...readiness,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}

/** Every port `npm start` listens on, so a taken one is named before anything starts. */
function portsToClaim(settings: LocalSettings): Parameters<typeof assertPortsFree>[0] {
  return [
    { port: settings.webPort, what: 'web', setting: 'GPC_WEB_PORT' },
    { port: settings.triagePort, what: 'triage API', setting: 'GPC_TRIAGE_PORT' },
    { port: settings.signallingPort, what: 'signalling', setting: 'GPC_SIGNALLING_PORT' },
    { port: settings.recordPort, what: 'record worker', setting: 'GPC_RECORD_PORT' },
    { port: settings.fhirPort, what: 'local FHIR server', setting: 'GPC_FHIR_PORT' },
    { port: settings.s3Port, what: 'local S3', setting: 'GPC_S3_PORT' },
    { port: settings.pdsPort, what: 'local PDS', setting: 'GPC_PDS_PORT' },
    { port: settings.oidcPort, what: 'local OIDC provider (NHS login)', setting: 'GPC_OIDC_PORT' },
    { port: settings.meshPort, what: 'local MESH', setting: 'GPC_MESH_PORT' },
    { port: settings.gpInboxPort, what: 'simulated GP system (MESH inbox)', setting: 'GPC_GP_INBOX_PORT' },
    { port: settings.mailSmtpPort, what: 'mail catcher (SMTP)', setting: 'GPC_MAIL_SMTP_PORT' },
    { port: settings.mailWebPort, what: 'mail catcher (inbox)', setting: 'GPC_MAIL_WEB_PORT' },
    { port: settings.turnPort, what: 'TURN relay (coturn)', setting: 'GPC_TURN_PORT', udp: true },
    { port: settings.turnTlsPort, what: 'TURN relay, TLS', setting: 'GPC_TURN_TLS_PORT', udp: true },
    ...Array.from({ length: settings.mediaWorkers }, (_, i) => ({
      port: settings.rtcPort + i,
      what: `mediasoup WebRtcServer ${i + 1}`,
      setting: 'GPC_RTC_PORT',
      udp: true,
    })),
  ];
}

/** Starts every service process and waits until each answers; one that exits stops everything. */
async function startServices(
  settings: LocalSettings,
  workerBin: string,
  started: StartedService[],
  onUnexpectedExit: (name: string, code: number | null) => void,
): Promise<void> {
  const processes = serviceSpecs(settings, workerBin).map((spec, index) => {
    const service = new ServiceProcess(spec, index, repoRoot);
    started.push(service);
    void service.exited.then((code) => onUnexpectedExit(service.name, code));
    return { service, spec };
  });
  await Promise.all(
    processes.map(({ service, spec }) =>
      service.waitReady(spec.readyUrl, undefined, spec.startedWhenAnswering === true),
    ),
  );
}

export async function start(): Promise<number> {
  const settings = loadLocalSettings();
  const begun = Date.now();
  mkdirSync(settings.stateDir, { recursive: true });
  await assertPortsFree(portsToClaim(settings));

  const started: StartedService[] = [];
  let stopping: Promise<never> | undefined;
  let readiness: ReadinessWatch | undefined;
  const shutdown = (code: number): Promise<never> =>
    (stopping ??= (async () => {
      log('stopping...');
      await readiness?.stop();
      await stopAll(started, log);
      log('stopped');
      process.exit(code);
    })());
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  try {
    const workerBin = await ensureMediasoupWorker({ log });
    const postgres = await ensurePostgres(settings.databaseUrl, log);
    if (postgres) started.push(postgres);
    const redis = await ensureRedis(settings.redisUrl, settings.stateDir, log);
    if (redis) started.push(redis);
    started.push(await startLocalTurn(settings));
    await startServices(settings, workerBin, started, (name, code) => {
      if (stopping) return;
      log(`${name} exited unexpectedly (code ${code}); stopping everything`);
      void shutdown(1);
    });
    // triage has migrated by now: give a newcomer a practice to try
    await seedDevPractice(
      settings.databaseUrl,
      devSecrets(settings.stateDir).staffPassword,
      `http://127.0.0.1:${settings.fhirPort}/fhir/R4`,
      {
        provider: 'smtp',
        host: '127.0.0.1',
        port: settings.mailSmtpPort,
        secure: false,
        from: devPracticeSender,
      },
      devSecretsKeyring(settings.stateDir),
    );
    // what each service needs and lacks, now and whenever it changes: it runs on and retries meanwhile
    readiness = await watchReadiness(readinessTargets(settings), { print: log });
    process.stdout.write(
      banner(settings, new Set(started.map((service) => service.name)), readiness.bannerLines()),
    );
    log(`ready in ${((Date.now() - begun) / 1000).toFixed(1)} s`);
  } catch (error) {
    // a service exited during start-up (or Ctrl-C): let the shutdown stop the others and exit with
    // its code; returning here exited at once, leaving them running with their ports
    if (stopping) return stopping;
    process.stderr.write(`\n[setup] ${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll(started, log);
    return 1;
  }
  // keep running until a signal or a service exits
  return new Promise<number>(() => undefined);
}
