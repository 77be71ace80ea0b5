#!/usr/bin/env bash
# E9: when the bundled Dawn is not where a program built from this tree
# expects it, the error names that place and why it was not loaded (the
# QA report's copied-away binary was told about libwgpu_native.so, the last
# system name tried), and it does not blame the model file. A probe linked
# against build/libwgpt.a runs from a folder outside the tree.
set -u
[ -f build/libwgpt.a ] || { echo "build/libwgpt.a missing (run make)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
cat >"$tmp/probe.c" <<'EOF'
#include <stdio.h>
#include "wgpt.h"
int main(int argc, char **argv) {
    wgpt_model_params p;
    wgpt_model_params_default(&p);
    p.progress = 0;
    wgpt_model *m = NULL;
    char err[1024] = "";
    wgpt_status st = wgpt_model_load(argv[argc - 1], &p, &m, err, sizeof err);
    printf("%d %s\n", (int)st, err);
    wgpt_model_free(m);
    return 0;
}
EOF
cc -std=c11 -Iinclude -o "$tmp/bin/probe" "$tmp/probe.c" build/libwgpt.a \
  -Wl,-Bstatic -lpcre2-8 -lutf8proc -Wl,-Bdynamic -ldl -lm -lpthread || exit 1
model=$(pwd)/models/default.gguf
fail=0
# expect LABEL WANT: the probe's output contains WANT, and neither the model's path nor libwgpu_native
expect() {
  local label=$1 want=$2 out
  out=$(env -u WGPT_ROOT -u WGPT_WEBGPU_LIB "$tmp/bin/probe" "$model" 2>&1)
  if [[ $out != *"$want"* || $out == *"$model"* || $out == *libwgpu_native* ]]; then
    echo "FAIL $label: $out"; echo "     wanted: $want"; fail=1
  else echo "ok   $label: $out"; fi
}
rel=deps/node_modules/bun-webgpu-linux-x64/libwebgpu_wrapper.so
expect "no bundled Dawn" \
  "-4 cannot find the WebGPU library: $tmp/bin/$rel does not exist (nor in the folders above), and libwebgpu_wrapper.so is not on the system's library path"
# A file at the expected place that does not load: that file and its reason.
mkdir -p "$tmp/$(dirname $rel)"
echo "not a library" >"$tmp/$rel"
expect "broken bundled Dawn" "-4 cannot load the bundled WebGPU library $tmp/$rel: $tmp/$rel: "
exit $fail
