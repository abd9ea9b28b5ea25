import { ConfigError } from '@gpc/contracts';
import { prepareItkValidation } from '@gpc/record/send-document';
import { createGpInbox } from './app';
import { loadGpInboxConfig, nhsNumberList, type GpInboxConfig } from './config';

function fail(message: string): never {
  process.stderr.write(`simulated GP inbox: ${message}\n`);
  process.exit(1);
}

let config: GpInboxConfig;
try {
  config = loadGpInboxConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(error.message);
}

const inbox = createGpInbox({
  mesh: {
    url: config.meshUrl,
    mailboxId: config.mailboxId,
    password: config.password,
    sharedKey: config.sharedKey,
    outbound: { allowLoopbackHttp: config.outboundAllowLoopbackHttp },
  },
  odsCode: config.odsCode,
  registeredPatients: nhsNumberList(config.registeredPatients),
  deceasedPatients: nhsNumberList(config.deceasedPatients),
  pollIntervalMs: config.pollIntervalMs,
  dataFile: config.dataFile,
  log: (line) => process.stderr.write(`simulated GP inbox: ${line}\n`),
});
inbox.server.once('error', (error: NodeJS.ErrnoException) => {
  fail(
    error.code === 'EADDRINUSE'
      ? `port ${config.port} is already in use`
      : `cannot listen on ${config.host}:${config.port}: ${error.message}`,
  );
});
inbox.server.listen(config.port, config.host, () => {
  process.stdout.write(
    `simulated GP system (${config.odsCode}, MESH mailbox ${config.mailboxId}) on http://${config.host}:${config.port}/\n`,
  );
  // the STU3 schema compiled before the first poll, not while a message waits
  prepareItkValidation();
  inbox.start();
});

const stop = () => void inbox.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
