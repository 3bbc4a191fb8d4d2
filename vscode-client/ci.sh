#!/usr/bin/env bash
# CI for the Tether VS Code extension: clean install, then build, typecheck, lint, unit tests and
# packaging (.vsix). Non-interactive: safe with CI=true and no stdin.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
export CI="${CI:-true}"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

start=$SECONDS
# --ignore-scripts: no dependency needs its install script (esbuild finds its platform binary
# package on its own), and it keeps install scripts from reaching outside the npm registry.
npm ci --ignore-scripts --no-audit --no-fund </dev/null
npm run ci </dev/null
echo "vscode-client CI finished in $((SECONDS - start)) s: $(ls -1 ./*.vsix)"
