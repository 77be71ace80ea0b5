#!/usr/bin/env bash
# Device-side entry for llama.cpp's Vulkan benchmark (the bundle is made by
# scripts/pack_llamacpp_vulkan.sh):
#
#   scripts/device_llamacpp.sh BUNDLE.tar.xz MODEL.gguf [P] [N] [-- extra llamacpp_bench options]
#
# Unpacks BUNDLE to $LCV_DIR (default /tmp/lcv; reused when it is already
# there from the same bundle), points the Vulkan loader at the NVIDIA driver
# when no driver was chosen (VK_DRIVER_FILES / VK_ICD_FILENAMES unset and
# /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json present), makes sure
# libvulkan.so.1 can be found, and runs
#   llamacpp_bench MODEL --gpu vulkan -p P -n N [extra options]
# P defaults to 512, N to 128. stdout: one JSON line; stderr: llama.cpp's
# lines about the Vulkan device it used. Extra options: see
# `llamacpp_bench --help` (e.g. -r 5, --fa off, --gpu false, -v).
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,16p' "$0" >&2
  exit 2
fi
bundle="$1" model="$2"
shift 2
P=512 N=128
if [ $# -gt 0 ] && [ "$1" != "--" ]; then P="$1"; shift; fi
if [ $# -gt 0 ] && [ "$1" != "--" ]; then N="$1"; shift; fi
[ "${1:-}" = "--" ] && shift

dest="${LCV_DIR:-/tmp/lcv}"
stamp="$(stat -c '%s %Y' "$bundle")"
if [ ! -x "$dest/bin/llamacpp_bench" ] || [ "$(cat "$dest/.bundle" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$dest"
  mkdir -p "$dest"
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$bundle" | tar -x -C "$dest" --strip-components=1
  else
    python3 - "$bundle" "$dest" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], "r:xz") as t:
    for m in t.getmembers():
        m.name = m.name.split("/", 1)[1] if "/" in m.name else "."
    # "tar" filter where this Python has filters (3.12+), keeping modes.
    t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))
EOF
  fi
  echo "$stamp" > "$dest/.bundle"
fi

nv_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nv_icd" ]; then
  export VK_DRIVER_FILES="$nv_icd" VK_ICD_FILENAMES="$nv_icd"
fi
# The NVIDIA ICD's library (libGLX_nvidia.so.0) and its companions.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && case ":${LD_LIBRARY_PATH:-}:" in *":$d:"*) ;; *) export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;; esac
done
# libvulkan.so.1 unpacked from debs lands in a multiarch folder that the
# loader cache may not list until ldconfig runs.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/local/lib; do
    if [ -e "$d/libvulkan.so.1" ]; then
      export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      break
    fi
  done
fi

echo "device_llamacpp: $(head -1 "$dest/VERSION")" >&2
echo "device_llamacpp: VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}" >&2
if ldd "$dest/bin/llamacpp_bench" "$dest/lib/libggml-vulkan.so" 2>/dev/null | grep 'not found' >&2; then
  echo "device_llamacpp: missing shared libraries (above); libvulkan.so.1 must be installed" >&2
  exit 1
fi
exec "$dest/bin/llamacpp_bench" "$model" --gpu vulkan -p "$P" -n "$N" "$@"
