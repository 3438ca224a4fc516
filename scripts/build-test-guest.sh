#!/usr/bin/env bash
# Builds the test guest from Debian packages only: a Debian kernel, busybox-static, and the kernel's
# own virtio/e1000/ahci modules, into kernel + initramfs, a probe initramfs and a hybrid ISO.
# Rebuilt only when this recipe (or the kernel package) changes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
here="$root/scripts"
out="${VIREO_TEST_GUEST_DIR:-$root/.cache/test-guest}"
mkdir -p "$out"

kernel_pkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
if [ -z "$kernel_pkg" ]; then
  apt-get update -q >&2
  kernel_pkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
fi
recipe="$( (cat "$0" "$here"/test-guest/*; echo "$kernel_pkg") | sha256sum | cut -c1-16)"
if [ -f "$out/.recipe-hash" ] && [ "$(cat "$out/.recipe-hash")" = "$recipe" ] &&
  [ -f "$out/test-guest.iso" ] && [ -f "$out/probe-initrd.img" ]; then
  echo "test guest up to date ($out)" >&2
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "test guest: fetching $kernel_pkg and busybox-static" >&2
(cd "$work" && apt-get download -q "$kernel_pkg" busybox-static >&2)
dpkg-deb -x "$work"/linux-image-*.deb "$work/kernel"
dpkg-deb -x "$work"/busybox-static_*.deb "$work/busybox"
kver="$(ls "$work/kernel/lib/modules")"
moddir="$work/kernel/lib/modules/$kver"
cp "$work/kernel/boot/vmlinuz-$kver" "$out/vmlinuz"

# The .deb has no modules.dep, and busybox insmod resolves nothing: order the modules ourselves,
# every dependency before its users, from each module's own `depends` field.
declare -A path_of=()
while IFS= read -r f; do
  name="$(basename "$f")"
  name="${name%%.ko*}"
  path_of[$name]="$f"
  path_of[${name//-/_}]="$f"
done < <(find "$moddir/kernel" -name '*.ko*')
declare -A seen=()
order=()
visit() {
  local m="${1//-/_}"
  [ -n "${seen[$m]:-}" ] && return 0
  seen[$m]=1
  local f="${path_of[$m]:-}"
  [ -n "$f" ] || return 0 # built into the kernel
  local deps
  deps="$(modinfo -F depends "$f" | tr ',' ' ')"
  for d in $deps; do visit "$d"; done
  order+=("$m")
}
while read -r m; do
  case "$m" in '' | '#'*) continue ;; esac
  visit "$m"
done <"$here/test-guest/modules.txt"

initrd_tree() { # $1: dir; makes a busybox userland
  mkdir -p "$1"/{bin,sbin,etc,proc,sys,dev,root,lib/modules}
  cp "$work/busybox/bin/busybox" "$1/bin/busybox"
  ln -sf busybox "$1/bin/sh"
}
make_cpio() { # $1: dir, $2: output
  (cd "$1" && find . -print0 | sort -z | cpio --null -o -H newc --owner 0:0 --quiet) | gzip -9 >"$2"
}

guest="$work/guest"
initrd_tree "$guest"
for m in "${order[@]}"; do
  f="${path_of[$m]}"
  case "$f" in
    *.ko.xz) xz -dc "$f" >"$guest/lib/modules/$m.ko" ;;
    *.ko.zst) zstd -qdc "$f" >"$guest/lib/modules/$m.ko" ;;
    *) cp "$f" "$guest/lib/modules/$m.ko" ;;
  esac
  echo "$m" >>"$guest/etc/modules.order"
done
install -m 0755 "$here/test-guest/init" "$guest/init"
install -m 0755 "$here/test-guest/udhcpc.script" "$guest/etc/udhcpc.script"
make_cpio "$guest" "$out/initrd.img"

probe="$work/probe"
initrd_tree "$probe"
install -m 0755 "$here/test-guest/probe-init" "$probe/init"
make_cpio "$probe" "$out/probe-initrd.img"

iso="$work/iso"
mkdir -p "$iso/boot/grub"
cp "$out/vmlinuz" "$out/initrd.img" "$iso/boot/"
cp "$here/test-guest/grub.cfg" "$iso/boot/grub/grub.cfg"
# Hybrid: the same file boots as a CD and as a hard disk, under BIOS and (with grub-efi) UEFI.
grub-mkrescue -o "$out/test-guest.iso" "$iso" -- -volid VIREO_TEST >/dev/null 2>&1

cat >"$out/manifest.json" <<JSON
{ "kernel": "$kver", "package": "$kernel_pkg", "modules": "$(echo "${order[@]}")",
  "files": ["vmlinuz", "initrd.img", "probe-initrd.img", "test-guest.iso"] }
JSON
echo "$recipe" >"$out/.recipe-hash"
echo "test guest built in $out: vmlinuz initrd.img probe-initrd.img test-guest.iso" >&2
echo "modules: ${order[*]}" >&2
