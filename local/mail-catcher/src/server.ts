import { MailDev } from 'maildev';
import { ConfigError } from '@gpc/contracts';
import { loadMailCatcherConfig, type MailCatcherConfig } from './config';

/**
 * maildev, standing in for a practice's mail relay in development: every email a patient would
 * get lands here instead, readable in a browser, with working links. Kept in memory only.
 */
let config: MailCatcherConfig;
try {
  config = loadMailCatcherConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`mail catcher: ${error.message}\n`);
  process.exit(1);
}

const maildev = new MailDev({
  smtp: config.smtpPort,
  ip: config.host,
  web: config.webPort,
  webIp: config.host,
});
try {
  await maildev.start();
} catch (error) {
  process.stderr.write(
    `mail catcher: cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
process.stdout.write(
  `mail catcher: SMTP on ${config.host}:${config.smtpPort}, inbox on http://${config.host}:${config.webPort}\n`,
);

const stop = () => void maildev.stop().finally(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
