#!/usr/bin/env bash
# Installs what wgpt needs and is missing: Debian packages, the pinned npm
# packages in deps/ (Dawn's WebGPU library, test oracles), and SwiftShader
# (a CPU Vulkan driver) unpacked into .deps/ for machines without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

pkgs=(build-essential pkg-config libpcre2-dev libutf8proc-dev libcjson-dev
      libmicrohttpd-dev libcmocka-dev python3 python3-numpy nodejs npm libvulkan1
      chromium clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from elsewhere than Debian: accept working commands.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -ra missing <<<"${missing[*]:-}"
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -f deps/node_modules/.wgpt-installed ] || [ deps/package.json -nt deps/node_modules/.wgpt-installed ]; then
  echo "setup: installing pinned npm packages into deps/" >&2
  (cd deps && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund --loglevel=error >&2)
  touch deps/node_modules/.wgpt-installed
fi

# SwiftShader from Debian's chromium-common, without installing the browser.
ss="$root/.deps/swiftshader"
if [ ! -f "$ss/icd.json" ]; then
  echo "setup: unpacking SwiftShader (chromium-common) into .deps/" >&2
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download chromium-common >/dev/null 2>&1 || { $sudo apt-get update -qq && apt-get download chromium-common >/dev/null; })
  dpkg -x "$tmp"/chromium-common_*.deb "$tmp/x"
  mkdir -p "$ss"
  cp "$tmp/x/usr/lib/chromium/libvk_swiftshader.so" "$tmp/x/usr/lib/chromium/libvulkan.so.1" "$ss/"
  printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s/libvk_swiftshader.so", "api_version": "1.0.5"}}\n' "$ss" >"$ss/icd.json"
fi
