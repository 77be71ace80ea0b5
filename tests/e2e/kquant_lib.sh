# Shared by the tests of llama.cpp-quantized files (test_kquants_llamacpp.sh,
# test_inspect_mix.sh, test_bad_inputs.sh): llama.cpp's own quantizer
# (tools/llamacpp_quantize.c, llama_model_quantize of the libllama that
# node-llama-cpp ships) and the files it makes, cached in build/testmodels.
# Sourced from the repository root.
LC_BINS=deps/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
LC_BUNDLE=deps/node_modules/node-llama-cpp/llama/gitRelease.bundle
LC_QUANTIZE=build/tools/llamacpp_quantize

# have_llamacpp_quantize: true when the prebuilt libllama and the source it
# was built from (for llama.h) are there.
have_llamacpp_quantize() {
  [ -f "$LC_BUNDLE" ] && ls "$LC_BINS"/libllama.v*.so >/dev/null 2>&1 && command -v cc >/dev/null
}

# build_llamacpp_quantize: (re)builds $LC_QUANTIZE against the llama.h of
# the exact llama.cpp source of the shipped libraries (so the layout of
# llama_model_quantize_params matches) and links those libraries. Returns 1,
# with the compiler's output, when that fails.
build_llamacpp_quantize() {
  local src libllama libggml
  if [ -x "$LC_QUANTIZE" ] && [ "$LC_QUANTIZE" -nt tools/llamacpp_quantize.c ] && [ "$LC_QUANTIZE" -nt "$LC_BUNDLE" ]; then
    return 0
  fi
  src=$(/usr/bin/python3 scripts/llamacpp_src.py) || return 1
  libllama=$(cd "$LC_BINS" && ls libllama.v*.so | head -n1)
  libggml=$(cd "$LC_BINS" && ls libggml.v*.so | head -n1)
  mkdir -p "$(dirname "$LC_QUANTIZE")"
  cc -std=c11 -O2 -Wall -Wextra -Werror -I"$src/include" -I"$src/ggml/include" tools/llamacpp_quantize.c \
    -o "$LC_QUANTIZE.tmp.$$" -L"$LC_BINS" -l:"$libllama" -l:"$libggml" -l:libggml-base.so \
    -Wl,-rpath,"$(cd "$LC_BINS" && pwd)" && mv "$LC_QUANTIZE.tmp.$$" "$LC_QUANTIZE"
}

# kquant_model SRC TYPE: SRC (an F32/F16 GGUF) quantized by llama.cpp to
# TYPE (q4_K_M, q5_K_M, q6_K, ...), made once beside SRC; echoes its path.
# The quantizer's log (a line per tensor, its "quant size = ... BPW") is
# kept beside it as PATH.log.
kquant_model() {
  local src=$1 type=$2 out="${1%.gguf}_$2.gguf"
  if [ ! -s "$out" ] || [ "$src" -nt "$out" ] || [ "$LC_QUANTIZE" -nt "$out" ]; then
    "$LC_QUANTIZE" "$src" "$out.tmp.$$" "$type" -v >"$out.log" 2>&1 \
      && mv "$out.tmp.$$" "$out" || { rm -f "$out.tmp.$$"; cat "$out.log" >&2; return 1; }
  fi
  echo "$out"
}
