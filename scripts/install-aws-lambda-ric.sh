#!/usr/bin/env bash
# Installs AWS's Lambda runtime interface client (aws-lambda-ric, pinned in
# test/aws-lambda-ric/package-lock.json) for test/integration/aws-lambda-ric.test.ts.
# It is not a dependency of serverfull: its install compiles curl and aws-lambda-cpp from
# source (about 2 minutes, autotools and cmake), which `npm ci` of the project must not do.
# Re-runs are fast: an install of the right version with its native addon is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

PROJECT=test/aws-lambda-ric
PACKAGE="$PROJECT/node_modules/aws-lambda-ric"
VERSION="$(node -p "require('./$PROJECT/package.json').dependencies['aws-lambda-ric']")"

installed_version() {
  node -p "require('./$PACKAGE/package.json').version" 2>/dev/null || true
}

if [ "$(installed_version)" = "$VERSION" ] && [ -f "$PACKAGE/dist/rapid-client.node" ]; then
  echo "aws-lambda-ric $VERSION is already installed in $PROJECT"
  rm -rf "$PACKAGE/deps"
  exit 0
fi

# The build tools its preinstall (curl's autoreconf, aws-lambda-cpp's cmake) and node-gyp need:
# command → Debian package.
declare -A TOOLS=(
  [autoreconf]=autoconf [automake]=automake [libtoolize]=libtool
  [cmake]=cmake [make]=make [g++]=g++ [python3]=python3
)
missing=()
for command in "${!TOOLS[@]}"; do
  command -v "$command" > /dev/null || missing+=("${TOOLS[$command]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get > /dev/null; then
    echo "aws-lambda-ric needs these build tools: ${missing[*]} (install them, then re-run)" >&2
    exit 1
  fi
  SUDO=()
  [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
  echo "installing build tools for aws-lambda-ric: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" > /dev/null
fi

# node-gyp builds the addon against the running Node.js's headers; an official build from the npm
# registry (scripts/install-node.sh) carries them in include/node, and nodejs.org is not reachable everywhere.
NODE_PREFIX="$(dirname "$(dirname "$(command -v node)")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$NODE_PREFIX/include/node/node.h" ]; then
  export npm_config_nodedir="$NODE_PREFIX"
fi

echo "installing aws-lambda-ric $VERSION in $PROJECT (builds curl and aws-lambda-cpp: about 2 minutes)"
npm ci --prefix "$PROJECT" --no-audit --no-fund --foreground-scripts
# Its postinstall leaves ~150 MB of build sources; the client runs from dist/.
rm -rf "$PACKAGE/deps"

if [ "$(installed_version)" != "$VERSION" ] || [ ! -f "$PACKAGE/dist/rapid-client.node" ]; then
  echo "aws-lambda-ric $VERSION did not install: no $PACKAGE/dist/rapid-client.node" >&2
  exit 1
fi
echo "aws-lambda-ric $VERSION installed in $PROJECT"
