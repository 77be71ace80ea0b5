#!/usr/bin/env bash
# Builds PCRE2 (8-bit, no JIT) and utf8proc for wasm32-wasi from Debian's
# source packages, for `make web`. Sources land in .deps/wasm-src/ (fetched
# once with `apt-get source` through a private apt state, so the system's
# sources.list is untouched), libraries and headers in .deps/wasm/.
# Safe to run again: does nothing when the libraries are there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/.deps/wasm"
src="$root/.deps/wasm-src"
CC=${WASM_CC:-clang-14}
CFLAGS=(--target=wasm32-wasi -O2 -fvisibility=hidden)

if [ -f "$out/lib/libpcre2-8.a" ] && [ -f "$out/lib/libutf8proc.a" ]; then exit 0; fi
mkdir -p "$out/lib" "$out/include" "$src"

fetch() { # package: unpacked sources in $src/<package>
  local pkg=$1
  if ls -d "$src/$pkg"-*/ >/dev/null 2>&1; then return; fi
  if ! ls "$src/$pkg"_*.orig.tar.* >/dev/null 2>&1; then
    echo "web: fetching the Debian source package $pkg" >&2
    local apt="$src/apt"
    mkdir -p "$apt/lists/partial" "$apt/archives/partial"
    local suite; suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" >"$apt/sources.list"
    local o=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
             -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache::Archives=$apt/archives"
             -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)
    [ -f "$apt/.updated" ] || { apt-get "${o[@]}" update -qq >&2 && touch "$apt/.updated"; }
    (cd "$src" && apt-get "${o[@]}" source --download-only -qq "$pkg" >&2)
  fi
  (cd "$src" && tar xf "$(ls "$pkg"_*.orig.tar.* | head -1)")
}

fetch pcre2
fetch utf8proc
p=$(ls -d "$src"/pcre2-*/ | head -1); p=${p%/}
u=$(ls -d "$src"/utf8proc-*/ | head -1); u=${u%/}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

echo "web: building PCRE2 for wasm32-wasi ($(basename "$p"))" >&2
cp "$p/src/config.h.generic" "$tmp/config.h"
cp "$p/src/pcre2.h.generic" "$tmp/pcre2.h"
cp "$p/src/pcre2_chartables.c.dist" "$tmp/pcre2_chartables.c"
objs=()
for f in auto_possess chartables compile config context convert dfa_match error extuni find_bracket jit_compile \
         maketables match match_data newline ord2utf pattern_info script_run serialize string_utils study \
         substitute substring tables ucd valid_utf xclass; do
  s="$p/src/pcre2_$f.c"; [ "$f" = chartables ] && s="$tmp/pcre2_chartables.c"
  $CC "${CFLAGS[@]}" -w -DHAVE_CONFIG_H -DPCRE2_CODE_UNIT_WIDTH=8 -DPCRE2_STATIC -DSUPPORT_UNICODE \
      -DSUPPORT_PCRE2_8 -DHAVE_STDINT_H -DHAVE_INTTYPES_H -DHAVE_LIMITS_H -DHAVE_STRING_H -DHAVE_STDLIB_H \
      -DHAVE_MEMMOVE -I"$tmp" -I"$p/src" -c "$s" -o "$tmp/pcre2_$f.o"
  objs+=("$tmp/pcre2_$f.o")
done
rm -f "$out/lib/libpcre2-8.a"
llvm-ar-14 rcs "$out/lib/libpcre2-8.a" "${objs[@]}" 2>/dev/null || ar rcs "$out/lib/libpcre2-8.a" "${objs[@]}"
cp "$tmp/pcre2.h" "$out/include/pcre2.h"

echo "web: building utf8proc for wasm32-wasi ($(basename "$u"))" >&2
$CC "${CFLAGS[@]}" -w -DUTF8PROC_STATIC -I"$u" -c "$u/utf8proc.c" -o "$tmp/utf8proc.o"
rm -f "$out/lib/libutf8proc.a"
llvm-ar-14 rcs "$out/lib/libutf8proc.a" "$tmp/utf8proc.o" 2>/dev/null || ar rcs "$out/lib/libutf8proc.a" "$tmp/utf8proc.o"
cp "$u/utf8proc.h" "$out/include/utf8proc.h"
echo "web: wasm libraries in .deps/wasm/lib" >&2
