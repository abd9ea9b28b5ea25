import { build } from 'vite';
import { viteConfig } from '../vite.config';
import { loadWebConfig } from './config';

/**
 * Builds the pages for production (`vite build`) into `outDir` (web/dist by default): what the
 * static server (src/static-server.ts) serves. Tests build into a folder of their own.
 */
export async function buildPages(options: { outDir?: string; logLevel?: 'warn' | 'error' | 'silent' } = {}) {
  const config = viteConfig(loadWebConfig({}));
  await build({
    ...config,
    configFile: false,
    logLevel: options.logLevel ?? 'warn',
    build: { ...config.build, ...(options.outDir ? { outDir: options.outDir } : {}) },
  });
}
