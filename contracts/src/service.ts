// What every service's `server.ts` does the same way: load its configuration or stop at boot,
// say plainly why it cannot listen, and stop once on SIGINT/SIGTERM. Node only; the pages never
// call these. Plus the configuration fields several services share.
import { Type } from '@sinclair/typebox';
import { ConfigError } from './config';

/** Loads a service's configuration, or writes what is wrong to stderr and exits 1. */
export function loadConfigOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(1);
  }
}

/** The line a person reads when a service cannot listen: a port already taken, said so. */
export function listenFailure(service: string, port: number, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE'
    ? `${service}: port ${port} is already in use`
    : `${service}: ${String(error)}`;
}

/** Runs `stop` on the first SIGINT or SIGTERM, once however many signals follow. */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** Makes a `close()` idempotent: the first call runs `close`, every call returns that promise. */
export function closeOnce(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/** A service's `logLevel` setting. */
export const LogLevelSetting = Type.Union(
  [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
  { default: 'info' },
);

/** The S3 bucket settings of a service that reads or writes attachments, for its config schema. */
export const S3ConfigFields = {
  s3Bucket: Type.String({ minLength: 3 }),
  s3Region: Type.String({ default: 'eu-west-2' }),
  s3Endpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
  s3AccessKeyId: Type.String({ minLength: 1 }),
  s3SecretAccessKey: Type.String({ minLength: 1 }),
  /** For S3-compatible servers (the local one) that want path-style URLs. */
  s3ForcePathStyle: Type.Boolean({ default: false }),
};

/** What an S3 client needs to reach the attachments' bucket. */
export interface S3Settings {
  bucket: string;
  region: string;
  endpoint?: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

/** The S3 client's settings from a configuration loaded with `S3ConfigFields`. */
export function s3Settings(config: {
  s3Bucket: string;
  s3Region: string;
  s3Endpoint?: string;
  s3AccessKeyId: string;
  s3SecretAccessKey: string;
  s3ForcePathStyle: boolean;
}): S3Settings {
  return {
    bucket: config.s3Bucket,
    region: config.s3Region,
    accessKeyId: config.s3AccessKeyId,
    secretAccessKey: config.s3SecretAccessKey,
    forcePathStyle: config.s3ForcePathStyle,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
  };
}
