#!/usr/bin/env bash
# Fuzzes the GGUF reader and dequantizers, then the safetensors and index
# readers, for 15 seconds in all under ASan/UBSan;
# any crash, leak, sanitizer report or bad error state fails the test.
# Skips (77) when clang has no libFuzzer.
exec "$(dirname "$0")/../fuzz/run.sh" 15
