import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { commandExists, ensureAptPackages } from './apt';
import type { StartedService } from './services';

/**
 * A TURN relay (Debian's coturn) for calls whose direct media paths are blocked: `npm start` runs
 * one, and the browser tests start their own on free ports. It checks the TURN REST API's
 * time-limited credentials with a secret it shares with signalling, so it keeps no users.
 */
export interface TurnServerOptions {
  host: string;
  /** UDP and TCP (`turn:host:port?transport=udp|tcp`). */
  port: number;
  /** TLS over TCP (`turns:host:port?transport=tcp`); DTLS over UDP on the same port. */
  tlsPort: number;
  /** The UDP ports relayed allocations use. */
  relayMinPort: number;
  relayMaxPort: number;
  secret: string;
  /**
   * Where the secret is written for coturn (mode 0600) and read from with `-c`: on the command line
   * it would show in every user's process list.
   */
  configFile: string;
  certFile: string;
  keyFile: string;
}

export interface TurnServer extends StartedService {
  /** The URLs participants are given: UDP, TCP and TLS, in that order. */
  urls: [udp: string, tcp: string, tls: string];
  /** Resolves with coturn's exit code when it stops. */
  exited: Promise<number | null>;
}

/** The URLs of a relay on `host`, as RTCIceServer takes them. */
export function turnUrls(host: string, port: number, tlsPort: number): TurnServer['urls'] {
  return [
    `turn:${host}:${port}?transport=udp`,
    `turn:${host}:${port}?transport=tcp`,
    `turns:${host}:${tlsPort}?transport=tcp`,
  ];
}

/**
 * coturn's command line (RECIPES "TURN"): the REST API secret, a self-signed certificate for TLS,
 * and, since everything here is on loopback, relaying to loopback peers. A production relay relays
 * to the call nodes' addresses only (its own configuration, not this).
 */
function coturnArgs(options: TurnServerOptions): string[] {
  return [
    // the secret only; everything else is on this line
    '-c',
    options.configFile,
    `--listening-ip=${options.host}`,
    `--relay-ip=${options.host}`,
    `--listening-port=${options.port}`,
    `--tls-listening-port=${options.tlsPort}`,
    `--min-port=${options.relayMinPort}`,
    `--max-port=${options.relayMaxPort}`,
    '--use-auth-secret',
    '--realm=gp-consult',
    `--cert=${options.certFile}`,
    `--pkey=${options.keyFile}`,
    '--allow-loopback-peers',
    '--no-cli',
    '--no-software-attribute',
    '--log-file=stdout',
    '--simple-log',
  ];
}

/** Installs Debian's coturn when `turnserver` is missing (as root; otherwise says what to run). */
export async function ensureCoturn(): Promise<void> {
  if (!(await commandExists('turnserver')))
    await ensureAptPackages(['coturn'], 'to run the TURN relay for calls (coturn)');
}

/**
 * A self-signed certificate for the relay's TLS port, made once in `dir` and kept: browsers accept
 * it only when told to (Chromium's --ignore-certificate-errors), which is enough to try TURN over TLS.
 */
export async function ensureTurnCertificate(dir: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, 'turn-cert.pem');
  const keyFile = path.join(dir, 'turn-key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  mkdirSync(dir, { recursive: true });
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '3650',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile };
}

/** The development relay's shared secret, made once per checkout in the state folder. */
export function devTurnSecret(stateDir: string): string {
  const file = path.join(stateDir, 'turn-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(1000);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * Starts coturn and waits until its TCP and TLS ports accept connections. Its own log stays in
 * memory (it is chatty) and is shown only if it exits during start-up.
 */
export async function startTurnServer(options: TurnServerOptions): Promise<TurnServer> {
  writeFileSync(options.configFile, `static-auth-secret=${options.secret}\n`, { mode: 0o600 });
  chmodSync(options.configFile, 0o600); // an older file keeps its mode when written again
  const child = spawn('turnserver', coturnArgs(options), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', (error) => (output += `\n${error.message}`));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`coturn exited during start-up:\n${output.trim().split('\n').slice(-15).join('\n')}`);
    const up = await Promise.all(
      [options.port, options.tlsPort].map((port) => tcpAnswers(options.host, port)),
    );
    if (up.every(Boolean)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`coturn did not listen on ${options.host}:${options.port} within 15 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    name: 'TURN relay (coturn)',
    urls: turnUrls(options.host, options.port, options.tlsPort),
    exited,
    stop,
  };
}
