#!/usr/bin/env bash
# Prints the directory of a Node.js binary of the given major version (default: 24), installing the
# official build from the npm registry (package node-<os>-<arch>, binary and headers inside) into
# .node/<major> when the `node` on PATH is another version.
#   PATH="$(bash scripts/install-node.sh 24):$PATH" npm test
# Native addons built against it need its headers: npm_config_nodedir=<printed dir>/..
set -euo pipefail
cd "$(dirname "$0")/.."

MAJOR="${1:-24}"
case "$MAJOR" in
  22|24) ;;
  *) echo "serverfull supports Node.js 24 and 22, not '$MAJOR'" >&2; exit 2 ;;
esac

current="$(node -p 'process.versions.node' 2>/dev/null || true)"
if [ "${current%%.*}" = "$MAJOR" ]; then
  dirname "$(command -v node)"
  exit 0
fi

TARGET=".node/$MAJOR"
if [ -x "$TARGET/bin/node" ]; then
  echo "$PWD/$TARGET/bin"
  exit 0
fi

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "no Node.js package on the npm registry for $(uname -s): install Node.js $MAJOR by hand" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "no Node.js package on the npm registry for $(uname -m): install Node.js $MAJOR by hand" >&2; exit 1 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "installing Node.js $MAJOR (node-$os-$arch@$MAJOR from the npm registry) into $TARGET" >&2
tarball="$(npm pack "node-$os-$arch@$MAJOR" --pack-destination "$work" --silent | tail -n 1)"
tar -xzf "$work/$tarball" -C "$work"
rm -rf "$TARGET"
mkdir -p "$(dirname "$TARGET")"
mv "$work/package" "$TARGET"
# npm looks for its global config next to the `node` that runs it: the machine's own (its registry, the CA
# file of a proxy in between) is linked there, or npm run by this Node.js would lose it. A link, not a copy:
# no second copy of what it may hold (tokens), with its own permissions, and later edits apply.
global_config="$(npm config get globalconfig 2>/dev/null || true)"
if [ -n "$global_config" ] && [ -f "$global_config" ]; then
  mkdir -p "$TARGET/etc"
  ln -s "$global_config" "$TARGET/etc/npmrc"
fi
"$TARGET/bin/node" --version > /dev/null
echo "$PWD/$TARGET/bin"
