import path from 'node:path';
import { build } from 'vite';
import { viteConfig } from '../vite.config';
import { loadWebConfig } from './config';
import { precompressBuild } from './precompress';

/**
 * Builds the pages for production (`vite build`) into `outDir` (web/dist by default): what the
 * static server (src/static-server.ts) serves, with brotli and gzip copies of its text files
 * (src/precompress.ts). Tests build into a folder of their own.
 */
export async function buildPages(
  options: {
    outDir?: string;
    logLevel?: 'warn' | 'error' | 'silent';
    /** false: every page links the whole stylesheets, as before src/purge-styles.ts (the bench's baseline). */
    purgeStyles?: boolean;
  } = {},
) {
  const config = viteConfig(loadWebConfig({}));
  await build({
    ...config,
    plugins:
      options.purgeStyles === false
        ? config.plugins?.filter(
            (plugin) => !(plugin && 'name' in plugin && plugin.name === 'gpc-purge-styles'),
          )
        : config.plugins,
    configFile: false,
    logLevel: options.logLevel ?? 'warn',
    build: { ...config.build, ...(options.outDir ? { outDir: options.outDir } : {}) },
  });
  await precompressBuild(
    path.resolve(config.root ?? process.cwd(), options.outDir ?? config.build?.outDir ?? 'dist'),
  );
}
