#!/usr/bin/env bash
# Fuzzes every reader (tests/fuzz/run.sh lists them: GGUF and dequantizers,
# safetensors and index, JSON, ...) for 30 seconds in all under ASan/UBSan;
# any crash, leak, sanitizer report or bad error state fails the test.
# Skips (77) when clang has no libFuzzer.
exec "$(dirname "$0")/../fuzz/run.sh" 30
