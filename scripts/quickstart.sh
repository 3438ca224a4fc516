#!/usr/bin/env bash
# Installs what is missing, then runs Vireo headless with a demo VM booted from the test guest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source scripts/env.sh

DATA_DIR="${VIREO_DATA_DIR:-$PWD/.cache/demo-data}"
VM="Vireo demo"
vireo() { node bin/vireo --data-dir "$DATA_DIR" "$@"; }

if vireo host status --json | grep -q '"running": true'; then
  echo "A Vireo host already runs for $DATA_DIR; stopping it (VMs keep running)." >&2
  vireo host stop
fi
info_file="$(mktemp)"
vireo serve --port "${VIREO_PORT:-0}" --json >"$info_file" &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; rm -f "$info_file"' EXIT
for _ in $(seq 100); do grep -q '"url"' "$info_file" && break; sleep 0.1; done
url="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).url)' "$info_file")"

if ! vireo info "$VM" >/dev/null 2>&1; then
  vireo create "$VM" --iso "$PWD/.cache/test-guest/test-guest.iso" --memory 256 --disk-size 1G
fi
state="$(vireo info "$VM" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).state))')"
[ "$state" = running ] || vireo start "$VM"
echo "Waiting for the demo guest to boot (software emulation takes a few seconds)..." >&2
vireo console "$VM" --expect VIREO-TEST-GUEST-READY --timeout 180 >/dev/null

cat <<MSG

Vireo is serving $url
The demo VM "$VM" is running. In another terminal:
  ./scripts/dev.sh node bin/vireo --data-dir "$DATA_DIR" list
  ./scripts/dev.sh node bin/vireo --data-dir "$DATA_DIR" console "$VM"        (Ctrl+] leaves)
  ./scripts/dev.sh node bin/vireo --data-dir "$DATA_DIR" screenshot "$VM" demo.png
  ./scripts/dev.sh node bin/vireo --data-dir "$DATA_DIR" info "$VM" --qemu-argv
Ctrl+C stops the host; the VM keeps running and the next vireo command re-attaches to it.
MSG
wait $serve_pid
