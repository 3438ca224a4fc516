#!/usr/bin/env bash
# Builds Vireo's test guest from Debian packages only: Debian's own kernel and busybox-static, and
# the kernel's own virtio/NVMe/SATA/NIC modules, into
#   vmlinuz, initrd.img        the guest for direct kernel boot (-kernel/-initrd)
#   test-guest.iso             the same kernel and initrd behind GRUB, hybrid BIOS+UEFI CD/disk
#   probe-initrd.img           a tiny initramfs for the accelerator probe (prints VIREO-PROBE-OK,
#                              powers off), booted with the same vmlinuz
#   manifest.json              versions, file names, kernel command lines, module order
# into ${VIREO_TEST_GUEST_DIR:-<repo>/.cache/test-guest}. The guest itself lives in
# scripts/test-guest/. Nothing is installed on the host but build tools: the kernel package is only
# downloaded and unpacked. Rebuilt only when this script, scripts/test-guest/ or the Debian package
# versions change.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
recipe_dir="$root/scripts/test-guest"
out="${VIREO_TEST_GUEST_DIR:-$root/.cache/test-guest}"
work="$out/work"

# One command line for direct boot and for the ISO. tty0 before ttyS0: the last console= is
# /dev/console, and the serial port is what tests and the engine read. consoleblank=0 keeps the
# marker on screen for screenshots taken minutes later; TER16x32 is the big built-in font, used
# wherever the console is a framebuffer (UEFI); under BIOS the console is VGA text mode.
cmdline='console=tty0 console=ttyS0,115200 quiet panic=-1 consoleblank=0 fbcon=font:TER16x32'
probe_cmdline='console=ttyS0 quiet panic=-1'
outputs=(vmlinuz initrd.img probe-initrd.img test-guest.iso display-guest.iso manifest.json)

say() { echo "build-test-guest: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}
print_outputs() { for f in "${outputs[@]}"; do echo "$out/$f"; done; }

mkdir -p "$out"
# Test runners may start several builds at once; one builds, the others then find it up to date.
exec 9>"$out/.lock"
flock 9

# --- What to build from: linux-image-amd64 names the current kernel package, pinned exactly. ---
resolve_packages() {
  # apt-cache fails when it knows neither package (no lists yet): that is an answer, not an error.
  { apt-cache show --no-all-versions linux-image-amd64 busybox-static 2>/dev/null || true; } | awk '
    /^Package:/ { pkg = $2 }
    /^Version:/ && pkg == "busybox-static" { bb = $2 }
    /^Depends:/ && pkg == "linux-image-amd64" {
      if (match($0, /linux-image-[0-9][^ ,]*-amd64 \(= [^)]*\)/)) {
        dep = substr($0, RSTART, RLENGTH); gsub(/[()=]/, "", dep); split(dep, d, " +")
        kpkg = d[1]; kver = d[2]
      }
    }
    END { if (kpkg != "" && bb != "") print kpkg, kver, bb }'
}
apt_pins="$(resolve_packages)"
pins="$apt_pins"
if [ -z "$pins" ] && [ -f "$out/.recipe-packages" ]; then
  # No package lists (a fresh container, or offline): an existing build is judged by what it was
  # built from rather than forcing an apt-get update just to say "up to date".
  pins="$(cat "$out/.recipe-packages")"
fi

recipe_hash() {
  {
    cat "${BASH_SOURCE[0]}"
    (cd "$recipe_dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    echo "$1"
  } | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [ -n "$pins" ] && [ -f "$out/.recipe-hash" ] || return 1
  [ "$(cat "$out/.recipe-hash")" = "$(recipe_hash "$pins")" ] || return 1
  for f in "${outputs[@]}"; do [ -s "$out/$f" ] || return 1; done
}
if up_to_date; then
  say "test guest up to date ($out)"
  print_outputs
  exit 0
fi

# --- Build tools (not the kernel: that is only downloaded). ---
need_pkgs=()
need() { # $1: file or command that must exist, $2: Debian package providing it
  if [[ $1 == /* ]]; then [ -e "$1" ] || need_pkgs+=("$2"); else command -v "$1" >/dev/null || need_pkgs+=("$2"); fi
}
need dpkg-deb dpkg
need cpio cpio
need gzip gzip
need modinfo kmod
need xz xz-utils # newer Debian kernels ship modules as .ko.xz
need grub-mkrescue grub-common
need /usr/lib/grub/i386-pc/moddep.lst grub-pc-bin
need xorriso xorriso
need mformat mtools # grub-mkrescue builds the ISO's EFI system partition image with mtools
apt_install() {
  [ "$(id -u)" = 0 ] || die "missing build packages: $*; install them as root (apt-get install $*)"
  say "installing build tools: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; }
}
if [ "${#need_pkgs[@]}" -gt 0 ]; then apt_install "${need_pkgs[@]}"; fi
# UEFI support in the ISO is wanted but not essential: without grub-efi-amd64-bin the ISO is
# BIOS-only and the manifest says so.
if [ ! -e /usr/lib/grub/x86_64-efi/moddep.lst ]; then
  apt_install grub-efi-amd64-bin || say "warning: grub-efi-amd64-bin unavailable; the ISO boots under BIOS only"
fi
uefi=false
[ -e /usr/lib/grub/x86_64-efi/moddep.lst ] && uefi=true

# --- Download and unpack. The .debs are kept in the work dir so that editing the guest does not
# download 70 MB again; the unpacked trees are rebuilt every time. ---
if [ -z "$apt_pins" ]; then
  say "apt knows no linux-image-amd64 yet (no package lists); running apt-get update"
  apt-get update -q >&2
  pins="$(resolve_packages)"
  [ -n "$pins" ] || die "apt knows no linux-image-amd64 or busybox-static (check /etc/apt/sources.list)"
fi
read -r kernel_pkg kernel_pkg_version busybox_version <<<"$pins"
rm -f "$out/.recipe-hash" # a build that stops half-way must not look up to date
mkdir -p "$work/debs"
have_deb() { # $1 package, $2 version: prints the kept .deb of exactly that version, if any
  local f
  for f in "$work/debs/$1"_*.deb; do
    [ -f "$f" ] && [ "$(dpkg-deb -f "$f" Version)" = "$2" ] && { echo "$f"; return 0; }
  done
  return 1
}
fetch_deb() { # $1 package, $2 version
  have_deb "$1" "$2" >/dev/null && return 0
  rm -f "$work/debs/$1"_*.deb
  say "downloading $1 $2"
  # Sandbox::User=root: the _apt user may not write into a repo checkout owned by someone else.
  (cd "$work/debs" && apt-get download -q -o APT::Sandbox::User=root "$1=$2" >&2) ||
    {
      say "download failed; refreshing the package lists once"
      apt-get update -q >&2
      (cd "$work/debs" && apt-get download -q -o APT::Sandbox::User=root "$1=$2" >&2)
    }
}
fetch_deb "$kernel_pkg" "$kernel_pkg_version"
fetch_deb busybox-static "$busybox_version"

say "unpacking $kernel_pkg $kernel_pkg_version and busybox-static $busybox_version"
rm -rf "$work/kernel" "$work/busybox" "$work/guest" "$work/probe" "$work"/iso-*
dpkg-deb -x "$(have_deb "$kernel_pkg" "$kernel_pkg_version")" "$work/kernel"
dpkg-deb -x "$(have_deb busybox-static "$busybox_version")" "$work/busybox"
kver="$(basename "$(find "$work/kernel/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n1)")"
moddir="$work/kernel/lib/modules/$kver"
[ -f "$work/kernel/boot/vmlinuz-$kver" ] || die "no vmlinuz-$kver in $kernel_pkg"
busybox="$work/busybox/bin/busybox"
[ -x "$busybox" ] || die "no bin/busybox in busybox-static"

# --- Module order. The .deb has no modules.dep and busybox insmod resolves nothing, so every
# module goes after the modules it depends on, as each module's own `depends` field says. ---
declare -A module_file=()
while IFS= read -r f; do
  name="$(basename "$f")"
  name="${name%%.ko*}"
  module_file[${name//-/_}]="$f"
done < <(find "$moddir/kernel" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')
declare -A visited=()
module_order=()
visit() {
  local m="${1//-/_}" deps d
  [ -z "${visited[$m]:-}" ] || return 0
  visited[$m]=1
  # Not a file: built into this kernel (or absent from it), nothing to load.
  [ -n "${module_file[$m]:-}" ] || return 0
  deps="$(modinfo -F depends "${module_file[$m]}")"
  for d in ${deps//,/ }; do visit "$d"; done
  module_order+=("$m")
}
while read -r m _; do
  case "$m" in '' | '#'*) continue ;; esac
  visit "$m"
done <"$recipe_dir/modules.txt"

# --- The guest's initramfs. ---
populate_busybox() { # $1: tree; busybox plus a symlink for every applet where Debian puts it
  local applet
  mkdir -p "$1"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,root,etc}
  cp "$busybox" "$1/bin/busybox"
  while read -r applet; do
    case "$applet" in bin/busybox | linuxrc | "") continue ;; esac
    ln -sf /bin/busybox "$1/$applet"
  done < <("$busybox" --list-full)
}
make_cpio() { # $1: tree, $2: output; newc with root ownership, as the kernel expects
  # Fixed times and inode numbers: the same recipe gives the same bytes, whoever builds it.
  find "$1" -exec touch -h -d @0 {} +
  (cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --reproducible --quiet) |
    gzip -9 -n >"$2.tmp"
  mv "$2.tmp" "$2"
}

say "building initrd.img (kernel $kver, ${#module_order[@]} modules)"
for m in "${module_order[@]}"; do
  case "${module_file[$m]}" in *.ko.zst) command -v zstd >/dev/null || apt_install zstd ;; esac
done
guest="$work/guest"
populate_busybox "$guest"
mkdir -p "$guest/lib/modules" "$guest/etc/acpi/PWRF" "$guest/var/log" "$guest/mnt"
for m in "${module_order[@]}"; do
  f="${module_file[$m]}"
  # busybox insmod reads plain ELF only; the guest kernel may not decompress modules itself.
  case "$f" in
    *.ko.xz) xz -dc "$f" ;;
    *.ko.zst) zstd -qdc "$f" ;;
    *.ko.gz) gzip -dc "$f" ;;
    *) cat "$f" ;;
  esac >"$guest/lib/modules/$m.ko"
  echo "$m"
done >"$guest/etc/modules.order"
install -m 0755 "$recipe_dir/init" "$guest/init"
install -m 0755 "$recipe_dir/udhcpc.script" "$guest/etc/udhcpc.script"
install -m 0755 "$recipe_dir/power-button" "$guest/etc/acpi/PWRF/00000080"
install -m 0644 "$recipe_dir/acpid.conf" "$guest/etc/acpid.conf"
install -m 0644 "$recipe_dir/profile" "$guest/etc/profile"
install -m 0755 "$recipe_dir/repaint" "$guest/bin/repaint"
echo vireo-test-guest >"$guest/etc/hostname"
echo 'root:x:0:0:root:/root:/bin/sh' >"$guest/etc/passwd"
echo 'root:x:0:' >"$guest/etc/group"
make_cpio "$guest" "$out/initrd.img"

say "building probe-initrd.img"
probe="$work/probe"
mkdir -p "$probe"/{bin,dev}
cp "$busybox" "$probe/bin/busybox"
install -m 0755 "$recipe_dir/probe-init" "$probe/init"
make_cpio "$probe" "$out/probe-initrd.img"

cp "$work/kernel/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"

# --- The ISO. grub-mkrescue makes it hybrid: El Torito for BIOS, an EFI system partition image
# for UEFI (when grub-efi-amd64-bin is there), and an MBR so it also boots as a hard disk. ---
# display-guest.iso is the same guest on a 1024x768 VESA framebuffer (vga= works with the 16-bit boot
# protocol, so BIOS only), for the display benchmark's `repaint`. 0x344 is the VGA BIOS's mode 0x144,
# 1024x768 at 32 bits per pixel like a real desktop (the standard 0x318 gives 24). vesafb maps video
# memory itself, so a write to /dev/fb0 is on the screen with no driver copying it later.
build_iso() { # NAME VOLID CMDLINE
  local name="$1" volid="$2" line="$3" iso="$work/iso-$1"
  say "building $name ($([ "$uefi" = true ] && echo "BIOS and UEFI" || echo "BIOS only"))"
  mkdir -p "$iso/boot/grub"
  cp "$out/vmlinuz" "$out/initrd.img" "$iso/boot/"
  sed "s|@CMDLINE@|$line|" "$recipe_dir/grub.cfg" >"$iso/boot/grub/grub.cfg"
  # No fonts, locales or themes: the menu is never shown, and they would only make the ISO bigger.
  grub-mkrescue --compress=xz --fonts= --locales= --themes= -o "$out/$name.tmp" "$iso" \
    -- -volid "$volid" >"$work/grub-mkrescue.log" 2>&1 ||
    {
      cat "$work/grub-mkrescue.log" >&2
      die "grub-mkrescue failed"
    }
  mv "$out/$name.tmp" "$out/$name"
}
build_iso test-guest.iso VIREO_TEST "$cmdline"
build_iso display-guest.iso VIREO_DISPLAY "$cmdline vga=0x344"

json_list() { # prints its arguments as a JSON array of strings (they contain no quotes)
  local sep='' a
  printf '['
  for a in "$@"; do
    printf '%s"%s"' "$sep" "$a"
    sep=', '
  done
  printf ']'
}
recipe="$(recipe_hash "$pins")"
cat >"$out/manifest.json.tmp" <<JSON
{
  "kernelVersion": "$kver",
  "kernelPackage": "$kernel_pkg",
  "kernelPackageVersion": "$kernel_pkg_version",
  "busyboxPackageVersion": "$busybox_version",
  "files": {
    "kernel": "vmlinuz",
    "initrd": "initrd.img",
    "probeInitrd": "probe-initrd.img",
    "iso": "test-guest.iso",
    "displayIso": "display-guest.iso"
  },
  "cmdline": "$cmdline",
  "probeCmdline": "$probe_cmdline",
  "markers": { "ready": "VIREO-TEST-GUEST-READY", "probe": "VIREO-PROBE-OK" },
  "isoFirmware": $(if [ "$uefi" = true ]; then json_list bios uefi; else json_list bios; fi),
  "minMemoryMiB": { "bios": 256, "uefi": 512 },
  "modules": $(json_list "${module_order[@]}"),
  "recipeHash": "$recipe"
}
JSON
mv "$out/manifest.json.tmp" "$out/manifest.json"

# The unpacked kernel is ~400 MB; only the .debs are worth keeping.
rm -rf "$work/kernel" "$work/busybox" "$work/guest" "$work/probe" "$work"/iso-*
echo "$pins" >"$out/.recipe-packages"
echo "$recipe" >"$out/.recipe-hash"
say "done: kernel $kver, modules: ${module_order[*]}"
print_outputs
