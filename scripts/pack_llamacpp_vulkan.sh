#!/usr/bin/env bash
# Builds tools/llamacpp_bench.c against node-llama-cpp's prebuilt llama.cpp
# Vulkan libraries and packs what it needs to run on another x86-64 Linux
# machine (no Node.js, no network) into .devcarry/llamacpp-vulkan.tar.xz.
#
#   scripts/pack_llamacpp_vulkan.sh [--stage DIR] [OUT.tar.xz]
#
# --stage DIR: also leave the unpacked tree in DIR (DIR/bin, DIR/lib).
#
# The bundle holds lcv/bin/llamacpp_bench and llamacpp_quantize (RUNPATH
# $ORIGIN/../lib) and
# lcv/lib: libllama, ggml's registry and base libraries, the Vulkan backend
# and a few CPU backend variants (ggml loads the best one the CPU supports;
# libggml-cpu-x64.so is the generic fallback). libvulkan.so.1 and the
# Vulkan driver are not included: they come from the device machine.
# Run it there with scripts/device_llamacpp.sh.
#
# llama.h is taken from the llama.cpp source those binaries were built from
# (node-llama-cpp ships it as a git bundle), so struct layouts match exactly.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

stage_keep=""
out=".devcarry/llamacpp-vulkan.tar.xz"
while [ $# -gt 0 ]; do
  case "$1" in
    --stage) stage_keep="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) out="$1"; shift ;;
  esac
done

nm_dir="deps/node_modules"
bins="$nm_dir/@node-llama-cpp/linux-x64-vulkan/bins/linux-x64-vulkan"
bundle="$nm_dir/node-llama-cpp/llama/gitRelease.bundle"
for f in "$bins/libggml-vulkan.so" "$bundle"; do
  [ -e "$f" ] || { echo "missing $f (run scripts/setup.sh / npm install in deps first)" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Headers of the exact llama.cpp commit.
git clone -q --bare "$bundle" "$tmp/src.git" 2>/dev/null
mkdir -p "$tmp/hdr"
git -C "$tmp/src.git" archive HEAD include/llama.h ggml/include | tar -x -C "$tmp/hdr"
commit="$(git -C "$tmp/src.git" rev-parse HEAD)"

lcv="$tmp/lcv"
mkdir -p "$lcv/bin" "$lcv/lib"
libllama="$(cd "$bins" && ls libllama.vulkan.v*.so)"
libggml="$(cd "$bins" && ls libggml.vulkan.v*.so)"
cp "$bins/$libllama" "$bins/$libggml" "$bins/libggml-base.so" "$bins/libggml-vulkan.so" \
   "$bins/_nlcBuildMetadata.json" "$lcv/lib/"
# CPU variants: generic fallbacks plus what H100 hosts run (Sapphire Rapids /
# Ice Lake / Skylake-X Xeons, Zen 3 (haswell-level) and Zen 4 EPYCs).
for v in x64 sse42 haswell alderlake skylakex icelake sapphirerapids zen4; do
  cp "$bins/libggml-cpu-$v.so" "$lcv/lib/"
done

${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror \
  -I"$tmp/hdr/include" -I"$tmp/hdr/ggml/include" \
  tools/llamacpp_bench.c -o "$lcv/bin/llamacpp_bench" \
  -L"$lcv/lib" -l:"$libllama" -l:"$libggml" -l:libggml-base.so -lm \
  -Wl,-rpath,'$ORIGIN/../lib' -Wl,--enable-new-dtags

# llama.cpp's own quantizer, for the K-quant files device_bench.sh makes
# there (quantizing runs on the CPU; the Vulkan build's libllama does it as
# the CPU build's would).
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror \
  -I"$tmp/hdr/include" -I"$tmp/hdr/ggml/include" \
  tools/llamacpp_quantize.c -o "$lcv/bin/llamacpp_quantize" \
  -L"$lcv/lib" -l:"$libllama" -l:"$libggml" -l:libggml-base.so -lm \
  -Wl,-rpath,'$ORIGIN/../lib' -Wl,--enable-new-dtags

nlc_version="$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$nm_dir/@node-llama-cpp/linux-x64-vulkan/package.json" | head -1)"
cat > "$lcv/VERSION" <<EOF
llama.cpp commit $commit (node-llama-cpp release tag $(sed -n 's/.*"release": *"\([^"]*\)".*/\1/p' "$nm_dir/node-llama-cpp/llama/binariesGithubRelease.json"))
prebuilt binaries: @node-llama-cpp/linux-x64-vulkan $nlc_version
built from wgpt $(git rev-parse --short HEAD 2>/dev/null || echo unknown) on $(date -u +%Y-%m-%dT%H:%MZ)
EOF

mkdir -p "$(dirname "$out")"
tar -C "$tmp" -cf - lcv | xz -9 -T2 > "$out.part"
mv "$out.part" "$out"
if [ -n "$stage_keep" ]; then
  rm -rf "$stage_keep"; mkdir -p "$stage_keep"
  cp -a "$lcv/." "$stage_keep/"
fi
size=$(stat -c %s "$out")
echo "$out: $size bytes ($(( (size + 524287) / 1048576 )) MiB); llama.cpp $commit" >&2
