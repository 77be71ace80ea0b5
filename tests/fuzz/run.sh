#!/usr/bin/env bash
# Builds the GGUF libFuzzer harness with ASan/UBSan and fuzzes for N seconds
# (default 20), starting from seeds written by make_seeds.c. Independent of
# the Makefile: it compiles the few sources the reader needs directly.
# Usage: tests/fuzz/run.sh [SECONDS]
# Exit 0: no crash. 77: clang has no libFuzzer. Otherwise a crash, whose
# input is left in build/fuzz/artifacts/ (replay: build/fuzz/fuzz_gguf FILE).
set -u
cd "$(dirname "$0")/../.."
secs=${1:-20}
cc=${CLANG:-$(command -v clang || command -v clang-14 || echo clang)}
out=build/fuzz
mkdir -p "$out/corpus" "$out/seeds" "$out/artifacts"

if ! command -v "$cc" >/dev/null; then echo "no $cc: cannot build the fuzzer"; exit 77; fi
probe="$out/probe.c"
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe"
if ! "$cc" -fsanitize=fuzzer,address -o "$out/probe" "$probe" 2>/dev/null; then
  echo "$cc lacks libFuzzer (-fsanitize=fuzzer)"; exit 77
fi

flags=(-std=c11 -g -O1 -D_GNU_SOURCE -Isrc -Wall -Wextra -Werror
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
"$cc" "${flags[@]}" -o "$out/fuzz_gguf" tests/fuzz/fuzz_gguf.c \
  src/formats/gguf.c src/formats/dtype.c src/util/util.c src/util/text.c -lm || { echo "fuzzer build failed"; exit 1; }
"$cc" -std=c11 -O1 -Wall -Wextra -Werror -Isrc -o "$out/make_seeds" tests/fuzz/make_seeds.c \
  || { echo "seed generator build failed"; exit 1; }
"$out/make_seeds" "$out/seeds" || exit 1

# libFuzzer reports crashes with exit code 77 by default, which the test
# runner reads as "skipped": make every finding exit 1.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$out/fuzz_gguf" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
  -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
  -artifact_prefix="$out/artifacts/" "$out/corpus" "$out/seeds"
rc=$?
if [ $rc -ne 0 ]; then echo "fuzzer found a problem (exit $rc); inputs in $out/artifacts/"; exit 1; fi
echo "fuzzed ${secs}s: no crashes"
