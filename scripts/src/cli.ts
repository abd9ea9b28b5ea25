import { bench } from './bench';
import { rotateSecrets } from './rotate-secrets';
import { start } from './start';
import { test } from './test';

const [command, ...rest] = process.argv.slice(2);

async function main(): Promise<number> {
  switch (command) {
    case 'start':
      return start();
    case 'test':
      return test(rest);
    case 'bench':
      return bench(rest);
    case 'chaos':
      // loaded only here: it brings test-support and the record worker's modules
      return (await import('./chaos/index')).chaos(rest);
    case 'secrets:rotate':
      return rotateSecrets(rest);
    default:
      process.stderr.write('usage: bootstrap.sh start|test|bench|chaos|secrets:rotate [args...]\n');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[setup] ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
