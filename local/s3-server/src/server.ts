import { mkdirSync } from 'node:fs';
import { ConfigError } from '@gpc/contracts';
import { createLocalS3Server } from './app';
import { loadS3ServerConfig, type S3ServerConfig } from './config';

let config: S3ServerConfig;
try {
  config = loadS3ServerConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`local S3: ${error.message}\n`);
  process.exit(1);
}

mkdirSync(config.directory, { recursive: true });
const server = await createLocalS3Server({ directory: config.directory, buckets: config.buckets.split(',') });
server.once('error', (error: NodeJS.ErrnoException) => {
  process.stderr.write(
    error.code === 'EADDRINUSE'
      ? `local S3: port ${config.port} is already in use\n`
      : `local S3: cannot listen: ${error.message}\n`,
  );
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  process.stdout.write(
    `local S3 listening on http://${config.host}:${config.port} (buckets: ${config.buckets})\n`,
  );
});

const stop = () => server.close(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
