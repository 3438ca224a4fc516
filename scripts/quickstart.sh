#!/usr/bin/env bash
# The README's first command: installs what is missing, then runs Vireo headless with a demo VM
# booted from the test guest, and prints where to look, the URL in the very line `vireo serve`
# prints ("Vireo is serving http://…/#token=…"), so that people and tests find it the same way.
# VIREO_DATA_DIR picks the library (made if missing), VIREO_PORT the port (default: a free one).
set -euo pipefail
cd "$(dirname "$0")/.."
# Its own output is progress: stdout here is what the user is told.
./scripts/setup.sh >&2
source scripts/env.sh

DATA_DIR="${VIREO_DATA_DIR:-$PWD/.cache/demo-data}"
VM="Vireo demo"
vireo() { node bin/vireo --data-dir "$DATA_DIR" "$@"; }
fail() {
  echo "quickstart: $*" >&2
  exit 1
}

serve_out="$(mktemp)"
serve_err="$(mktemp)"
serve_pid=""
tail_pid=""
cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  [ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null || true
  rm -f "$serve_out" "$serve_err"
}
trap cleanup EXIT

# The CLI's own sentence when the data dir cannot be used (a file, a folder not yours, …).
status="$(vireo host status 2>&1)" || fail "${status#vireo: }"
case "$status" in
  "No Vireo host is running"*) ;;
  *)
    echo "A Vireo host already runs for $DATA_DIR; stopping it (VMs keep running)." >&2
    vireo host stop >/dev/null
    ;;
esac

vireo serve --port "${VIREO_PORT:-0}" >"$serve_out" 2>"$serve_err" &
serve_pid=$!
serving=""
for _ in $(seq 300); do
  serving="$(grep -m1 '^Vireo is serving http' "$serve_out" || true)"
  [ -z "$serving" ] && kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
# It may have printed just before it stopped.
[ -n "$serving" ] || serving="$(grep -m1 '^Vireo is serving http' "$serve_out" || true)"
if [ -z "$serving" ] || ! kill -0 "$serve_pid" 2>/dev/null; then
  why="$(sed 's/^vireo: //' "$serve_err")"
  fail "vireo serve did not start: ${why:-it printed nothing within 30 s}"
fi
# From here on what the host logs (refused connections, say) goes to this terminal.
tail -n +1 -f --pid="$serve_pid" "$serve_err" >&2 &
tail_pid=$!

if ! vireo info "$VM" >/dev/null 2>&1; then
  vireo create "$VM" --iso "$PWD/.cache/test-guest/test-guest.iso" --memory 256 --disk-size 1G >/dev/null
fi
# `info --json` is the engine's response, printed with two spaces: the VM's own state is at the top.
vireo info "$VM" --json | grep -q '^  "state": "running"' || vireo start "$VM" >/dev/null
echo "Waiting for the demo guest to boot (software emulation takes a few seconds)..." >&2
if ! vireo console "$VM" --expect VIREO-TEST-GUEST-READY --timeout 180 >/dev/null; then
  fail "the demo guest did not say it was ready within 180 s; look at its console with: ./scripts/dev.sh node bin/vireo --data-dir \"$DATA_DIR\" console \"$VM\""
fi

cat <<MSG

$serving
The demo VM "$VM" is running. In another terminal:
  ./scripts/dev.sh node bin/vireo --data-dir "$DATA_DIR" list
  ./scripts/dev.sh node bin/vireo --data-dir "$DATA_DIR" console "$VM"        (Ctrl+] leaves)
  ./scripts/dev.sh node bin/vireo --data-dir "$DATA_DIR" screenshot "$VM" demo.png
  ./scripts/dev.sh node bin/vireo --data-dir "$DATA_DIR" info "$VM" --qemu-argv
Ctrl+C stops the host; the VM keeps running and the next vireo command re-attaches to it.
MSG
code=0
wait "$serve_pid" || code=$?
serve_pid=""
exit "$code"
