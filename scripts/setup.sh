#!/usr/bin/env bash
# Installs what Vireo and its tests need on a Debian/Ubuntu machine, idempotently:
# QEMU and friends from apt, the project's Node 24 from the npm registry, npm packages, the test guest.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  qemu-system-x86 qemu-utils ovmf busybox-static cpio grub-pc-bin grub-efi-amd64-bin grub-common
  xorriso mtools osinfo-db chromium iproute2 tcpdump xz-utils zstd ca-certificates
  # Baselines for `npm run bench`: Debian's noVNC + websockify against the same QEMU.
  novnc websockify
  # Third-party boot images the tests detect and boot: GRUB's rescue CD, iPXE, Debian's netboot installer.
  grub-rescue-pc ipxe debian-installer-12-netboot-amd64
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

source scripts/env.sh
# A checkout whose node_modules or dist is a link to another checkout's (a git worktree, say) shares
# that one's: npm ci or a build here would empty or rewrite it under everyone using it, so setup
# leaves it to the checkout it belongs to.
if [ -L node_modules ]; then
  echo "setup: node_modules is shared with $(readlink node_modules); leaving it as it is" >&2
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  # Native addons must compile against Node 24's headers, not the system Node's.
  npm_config_nodedir="$VIREO_NODE_HOME" npm ci --no-audit --no-fund
fi

# The renderer and the desktop shell: `vireo serve` serves dist/renderer. VIREO_REUSE_BUILD=1 keeps
# a complete build that is there already (the quick start's own test, whose dist/ may be shared).
if { [ "${VIREO_REUSE_BUILD:-}" = 1 ] || [ -L dist ]; } && [ -f dist/renderer/index.html ] &&
  [ -f dist/main/main.js ] && [ -f dist/preload/preload.cjs ]; then
  echo "setup: reusing the build in dist/" >&2
else
  npm run build
fi

bash scripts/build-test-guest.sh
