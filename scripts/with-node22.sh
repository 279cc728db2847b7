#!/usr/bin/env bash
# Runs a command with Node.js 22 first on PATH (the images run 22; the AWS SDK for JavaScript v3 drops Node 20 in
# January 2027). The binary comes from the npm registry's node-linux-<arch> package — what the `node@22` package
# installs — kept in .tmp/node22 and reused.
#   scripts/with-node22.sh npm test
set -euo pipefail
cd "$(dirname "$0")/.."
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "with-node22: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
prefix=.tmp/node22
bin="$prefix/node_modules/node-linux-$arch/bin"
if ! [ -x "$bin/node" ]; then
  mkdir -p "$prefix"
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$prefix" "node-linux-$arch@22" >/dev/null
fi
export PATH="$PWD/$bin:$PATH"
echo "with-node22: $(node --version)" >&2
exec "$@"
