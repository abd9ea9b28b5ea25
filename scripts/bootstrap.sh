#!/bin/sh
# Entry of `npm start`, `npm test` and `npm run bench` on any machine with Node >= 20 and npm:
# installs the npm packages when they are missing or stale (this also brings the Node 24 runtime
# the project runs on, as the `node` package), then hands over to the TypeScript set-up on Node 24.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

stamp=node_modules/.gpc-install-stamp
want=$(cat package.json package-lock.json */package.json local/*/package.json 2>/dev/null | cksum)
if [ ! -x node_modules/.bin/node ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] installing npm packages (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

exec node_modules/.bin/node --import tsx scripts/src/cli.ts "$@"
