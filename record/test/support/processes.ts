import { spawn } from 'node:child_process';
import path from 'node:path';
import { track, type ChildService } from '@gpc/test-support';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

/** The record worker as production runs it: `record/src/server.ts` in its own process. */
export function spawnRecordWorker(env: Record<string, string>): ChildService {
  const child = spawn(process.execPath, ['--import', 'tsx', 'record/src/server.ts'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      RECORD_PORT: '0',
      // no attachments in these runs; the worker still needs to know where they would be
      RECORD_S3_BUCKET: 'unused-bucket',
      RECORD_S3_ACCESS_KEY_ID: 'unused',
      RECORD_S3_SECRET_ACCESS_KEY: 'unused',
      RECORD_LOG_LEVEL: 'warn',
      RECORD_PRACTICE_CONCURRENCY: '10',
      // the local FHIR server listens on loopback over http, as in development
      RECORD_OUTBOUND_ALLOW_LOOPBACK_HTTP: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child);
}
