import { access, constants } from 'node:fs/promises';
import { ensureAptPackages } from './apt';

/** Debian's Chromium drives the browser tests (Playwright's own browser download cannot work offline). */
export async function ensureChromium(chromiumPath: string): Promise<void> {
  try {
    await access(chromiumPath, constants.X_OK);
  } catch {
    await ensureAptPackages(['chromium'], 'for the browser tests (driven by playwright-core)');
  }
}
