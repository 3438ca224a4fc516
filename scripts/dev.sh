#!/usr/bin/env bash
# Runs a command with the project's Node 24 first on PATH: ./scripts/dev.sh npm test
set -euo pipefail
source "$(dirname "$0")/env.sh"
exec "$@"
