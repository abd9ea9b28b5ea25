// `npm run build -w web`: the production build of the pages into web/dist (or WEB_DIST_DIR), which
// src/static-server.ts serves.
import { loadConfigOrExit } from '@gpc/contracts';
import { buildPages } from './build';
import { loadWebConfig } from './config';

const { distDir } = loadConfigOrExit('web', loadWebConfig);
await buildPages(distDir ? { outDir: distDir } : {});
