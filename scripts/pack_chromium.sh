#!/usr/bin/env bash
# Packs Debian's headless Chromium for the GPU machine (no Chromium, no
# network there): the browser binary, the resources it reads, and every
# shared library it needs beyond glibc/libstdc++/libgcc (which the machine
# has), plus libmicrohttpd for `wgpt serve-web` and one font. Debian's
# packages are fetched with apt-get download and unpacked with dpkg -x.
#
# The result does not fit one device call: the browser binary alone is about
# 60 MB with xz -9 (the full `chromium` about 78 MB), and a call carries the
# working tree plus carried paths within 64 MiB. So the archive is cut into
# parts of at most $PART_MB MB, each in its own folder to carry in turn:
#   .devcarry/chromium-1/, .devcarry/chromium-2/, ... (each: part + MANIFEST)
# scripts/device_browser.sh gathers them on the (warm) machine and runs once
# all are there. The last part is the smallest: carry it last, with the rest.
#
# usage: scripts/pack_chromium.sh [--full] [--part-mb N]
#   --full   Debian's `chromium` (new headless mode) instead of the smaller
#            `chromium-headless-shell` (old headless mode; both run WebGPU
#            with --enable-unsafe-webgpu)
# Needs the packages installed here (scripts/setup.sh installs chromium):
# the libraries are found with ldd.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=chromium-headless-shell; bin=chromium-headless-shell
PART_MB=30
while [ $# -gt 0 ]; do
  case $1 in
    --full) pkg=chromium; bin=chromium ;;
    --part-mb) PART_MB=$2; shift ;;
    *) echo "usage: $0 [--full] [--part-mb N]" >&2; exit 2 ;;
  esac
  shift
done

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs" "$work/x" "$work/root/chromium" "$work/root/lib" "$work/root/fonts"
fetch() { (cd "$work/debs" && apt-get download "$@" >/dev/null 2>&1) || { apt-get update -qq && (cd "$work/debs" && apt-get download "$@" >/dev/null); }; }
echo "pack_chromium: downloading $pkg chromium-common" >&2
fetch "$pkg" chromium-common
for d in "$work"/debs/*.deb; do dpkg -x "$d" "$work/x"; done
src="$work/x/usr/lib/chromium"
[ -x "$src/$bin" ] || { echo "no $bin in $pkg" >&2; exit 1; }
version=$(dpkg-deb -f "$work"/debs/"${pkg}"_*.deb Version)

# The browser and what it reads at run time. Left out: the Vulkan
# validation layer and mock driver (28 MB, debugging only), other locales;
# for the headless shell also the full browser's resources.pak (20 MB) and
# crash handler, which it runs without (checked here with tests/web/cdp.py).
files=(icudtl.dat v8_context_snapshot.bin snapshot_blob.bin libEGL.so libGLESv2.so libvulkan.so.1
       libvk_swiftshader.so vk_swiftshader_icd.json)
if [ "$pkg" = chromium ]; then files+=(resources.pak chrome_100_percent.pak chrome_crashpad_handler)
else files+=(headless_lib_data.pak headless_lib_strings.pak headless_command_resources.pak); fi
for f in "$bin" "${files[@]}"; do
  [ -e "$src/$f" ] && cp -a "$src/$f" "$work/root/chromium/"
done
if [ -d "$src/locales" ]; then mkdir -p "$work/root/chromium/locales"; cp "$src/locales/en-US.pak" "$work/root/chromium/locales/"; fi

# Shared libraries: what ldd resolves for the browser and libmicrohttpd,
# less the C/C++ runtime, each from its Debian package.
skip='^(linux-vdso|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libresolv\.so|ld-linux|libgcc_s\.so|libstdc\+\+\.so)'
libs=$( (LD_LIBRARY_PATH="$src" ldd "$src/$bin"; ldd /usr/lib/x86_64-linux-gnu/libmicrohttpd.so.12) \
        | awk '$2 == "=>" {print $1, $3}' | grep -Ev "$skip" | sort -u)
if echo "$libs" | grep -q 'not found'; then
  echo "pack_chromium: libraries not found here (install $pkg first: apt-get install $pkg):" >&2
  echo "$libs" | grep 'not found' >&2; exit 1
fi
paths=$(echo "$libs" | awk '{print $2}' | grep -v "^$src/" | sort -u)
paths="$paths
/usr/lib/x86_64-linux-gnu/libmicrohttpd.so.12"
pkgs=$(for p in $paths; do dpkg -S "$(readlink -f "$p")" 2>/dev/null || dpkg -S "$p"; done | cut -d: -f1 | sort -u)
pkgs="$pkgs fonts-dejavu-core"
echo "pack_chromium: $(echo $pkgs | wc -w) library packages" >&2
rm -f "$work"/debs/*.deb
fetch $pkgs
rm -rf "$work/y"; mkdir -p "$work/y"
for d in "$work"/debs/*.deb; do dpkg -x "$d" "$work/y"; done
for p in $paths; do
  name=$(basename "$p")
  found=$(find "$work/y" -name "$name" | head -n1)
  [ -n "$found" ] || { echo "pack_chromium: $name not in the downloaded packages" >&2; exit 1; }
  cp -L "$found" "$work/root/lib/$name"
done
# NSS loads its crypto modules by name at run time.
[ -d "$work/y/usr/lib/x86_64-linux-gnu/nss" ] && cp -L "$work"/y/usr/lib/x86_64-linux-gnu/nss/*.so "$work/root/lib/"
cp "$work/y/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf" "$work/root/fonts/"
cat >"$work/root/fonts/fonts.conf" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir prefix="relative">.</dir><cachedir>/tmp/wgpt-fontconfig</cachedir></fontconfig>
EOF
{
  echo "package: $pkg $version"
  echo "binary: chromium/$bin"
  echo "libraries:"; ls "$work/root/lib" | sed 's/^/  /'
  echo "from Debian packages: $pkgs"
} >"$work/root/CONTENTS"

# Check that the packed browser starts with only the packed libraries (and
# the C runtime) on its path.
if ! LD_LIBRARY_PATH="$work/root/lib:$work/root/chromium" ldd "$work/root/chromium/$bin" | grep -q 'not found'; then
  echo "pack_chromium: every library resolves" >&2
else
  echo "pack_chromium: missing libraries:" >&2
  LD_LIBRARY_PATH="$work/root/lib:$work/root/chromium" ldd "$work/root/chromium/$bin" | grep 'not found' >&2; exit 1
fi
echo "pack_chromium: $(du -sh "$work/root" | cut -f1) unpacked; compressing (xz -9, a few minutes)" >&2
tar -C "$work/root" -cf - . | xz -9 -T0 >"$work/chromium.tar.xz"
total=$(stat -c %s "$work/chromium.tar.xz")
sum=$(sha256sum "$work/chromium.tar.xz" | cut -d' ' -f1)

rm -rf .devcarry/chromium-[0-9]*
mkdir -p .devcarry
(cd "$work" && split -b "${PART_MB}M" -d -a 1 chromium.tar.xz part.)
n=$(ls "$work"/part.* | wc -l)
i=0
for p in $(ls "$work"/part.* | sort); do
  i=$((i + 1))
  mkdir -p ".devcarry/chromium-$i"
  mv "$p" ".devcarry/chromium-$i/part"
  printf 'part %d of %d\ntotal %d bytes\nsha256 %s\npackage %s %s\n' "$i" "$n" "$total" "$sum" "$pkg" "$version" \
    >".devcarry/chromium-$i/MANIFEST"
done
grep -qx '/.devcarry/' .git/info/exclude 2>/dev/null || echo '/.devcarry/' >>.git/info/exclude
echo "pack_chromium: $pkg $version: $((total / 1048576)) MiB compressed ($total bytes), in $n parts:" >&2
du -b .devcarry/chromium-*/part | sed 's/^/  /' >&2
