#!/usr/bin/env bash
# Bad input gets one clear line and a non-zero exit, never a crash, a hang
# or a silent wrong answer: truncated, bit-flipped and oversized-count GGUF
# files, an unknown architecture, a prompt past the context, invalid UTF-8,
# out-of-vocabulary ids, and K-quant files (made by llama.cpp's own
# quantizer) cut inside their tensor data or with a q4_K tensor whose rows
# are no multiple of the 256-element K-quant block. Run with the normal and
# the ASan/UBSan build.
set -u
. tests/e2e/lib.sh
. tests/e2e/kquant_lib.sh  # have_llamacpp_quantize build_llamacpp_quantize kquant_model
need_wgpt
good=$(tiny_model bad_base --type q8_0 --seed 5) && [ -s "$good" ] || { echo "could not make the base model"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
# The K-quant cases need node-llama-cpp's llama.cpp (make deps); without it
# they are left out, which CI=true does not allow.
kq=
if have_llamacpp_quantize && build_llamacpp_quantize >"$tmp/cc" 2>&1; then
  kq=$(kquant_model "$(tiny_model kq_d256_f512_f16 --type f16 --seed 1 --dim 256 --ffn 512 --vocab 512)" q4_K_M)
fi
if [ -z "$kq" ] && [ "${CI:-}" = true ]; then
  echo "FAIL: no K-quant file: llama.cpp's quantizer (tools/llamacpp_quantize.c) missing or failing"; cat "$tmp/cc" 2>/dev/null; fail=1
elif [ -z "$kq" ]; then
  echo "note: K-quant cases left out: llama.cpp's quantizer (tools/llamacpp_quantize.c) missing or failing"
fi
# A fixture that was not made would test nothing: stop there.
made() { [ -s "$1" ] || { echo "FAIL: fixture $1 was not made"; exit 1; }; }
# expect_error LABEL PATTERN CMD...: exit $RC (default 1), one stderr line "wgpt: ...PATTERN...", no crash report
expect_error() {
  local label=$1 pattern=$2; shift 2
  timeout 120 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  local lines; lines=$(grep -cv '^$' "$tmp/err")
  if [ $rc -ne "${RC:-1}" ] || [ "$lines" -ne 1 ] || ! grep -q "^wgpt: .*$pattern" "$tmp/err"; then
    echo "FAIL $label: exit $rc, stderr:"; sed 's/^/    /' "$tmp/err" | head -20; fail=1
  else
    echo "ok   $label: $(cat "$tmp/err")"
  fi
}
size=$(stat -c %s "$good")
for bin in build/wgpt build-san/wgpt; do
  [ -x "$bin" ] || continue
  export ASAN_OPTIONS=detect_leaks=0
  for n in 0 3 20 100 1000 $((size / 2)) $((size - 1)); do
    head -c "$n" "$good" >"$tmp/trunc.gguf"
    [ "$(stat -c %s "$tmp/trunc.gguf")" -eq "$n" ] || { echo "FAIL: truncation to $n not made"; exit 1; }
    expect_error "$bin truncated at $n" "" "$bin" run -m "$tmp/trunc.gguf" -p hi -n 2
  done
  # n_tensors (bytes 8..15) set absurdly high
  /usr/bin/python3 - "$good" "$tmp/count.gguf" <<'PY'
import sys; b = bytearray(open(sys.argv[1], 'rb').read()); b[8:16] = (1 << 62).to_bytes(8, 'little'); open(sys.argv[2], 'wb').write(b)
PY
  made "$tmp/count.gguf"
  expect_error "$bin oversized tensor count" "" "$bin" run -m "$tmp/count.gguf" -p hi -n 2
  # bit flips spread over the header and tensor directory
  for off in 4 9 17 30 64 200 400 700 1500 3000; do
    /usr/bin/python3 - "$good" "$tmp/flip.gguf" "$off" <<'PY'
import sys; b = bytearray(open(sys.argv[1], 'rb').read()); o = int(sys.argv[3]); b[o] ^= 0xff; open(sys.argv[2], 'wb').write(b)
PY
    made "$tmp/flip.gguf"; cmp -s "$good" "$tmp/flip.gguf" && { echo "FAIL: bit flip at $off not made"; exit 1; }
    timeout 120 "$bin" run -m "$tmp/flip.gguf" -p hi -n 2 >/dev/null 2>"$tmp/err" </dev/null
    rc=$?
    # A flip may land in a value that still makes a valid file; then it must run. Otherwise: one clean line.
    if [ $rc -ne 0 ] && { [ $rc -ne 1 ] || [ "$(grep -cv '^$' "$tmp/err")" -ne 1 ]; }; then
      echo "FAIL $bin bit flip at $off: exit $rc"; sed 's/^/    /' "$tmp/err" | head; fail=1
    else echo "ok   $bin bit flip at $off: exit $rc"; fi
  done
  /usr/bin/python3 - "$good" "$tmp/arch.gguf" <<'PY'
import sys; b = open(sys.argv[1], 'rb').read(); i = b.index(b'general.architecture'); j = b.index(b'llama', i); open(sys.argv[2], 'wb').write(b[:j] + b'mamba' + b[j+5:])
PY
  made "$tmp/arch.gguf"
  expect_error "$bin unknown architecture" "architecture" "$bin" run -m "$tmp/arch.gguf" -p hi -n 2
  expect_error "$bin missing file" "" "$bin" run -m "$tmp/nonexistent.gguf" -p hi
  expect_error "$bin not a gguf" "" "$bin" run -m tests/e2e/lib.sh -p hi
  expect_error "$bin prompt past context" "context" "$bin" run -m "$good" -c 16 -n 4 -p "$(printf 'the %.0s' $(seq 40))"
  expect_error "$bin invalid UTF-8" "UTF-8" "$bin" run -m "$good" -n 2 -p "$(printf 'abc\xff\xfe')"
  expect_error "$bin ids outside vocabulary" "vocabulary" "$bin" logits -m "$good" --ids "1 99999" -o "$tmp/l.bin"
  if [ -n "$kq" ]; then
    head -c $(($(stat -c %s "$kq") / 2)) "$kq" >"$tmp/kq_cut.gguf"; made "$tmp/kq_cut.gguf"
    expect_error "$bin K-quant file cut inside its tensor data" "runs past the end" "$bin" run -m "$tmp/kq_cut.gguf" -p hi -n 2
    # 256x512 q4_K as 128x1024: the same bytes, rows of half a block.
    /usr/bin/python3 tests/e2e/gguf_edit.py "$kq" "$tmp/kq_rows.gguf" --set-dims blk.0.ffn_up.weight 128,1024
    made "$tmp/kq_rows.gguf"
    expect_error "$bin q4_K rows of 128" "ne\[0\] = 128 is not a multiple of the q4_K block size 256" \
      "$bin" run -m "$tmp/kq_rows.gguf" -p hi -n 2
  fi
  RC=2 expect_error "$bin bad option value (a command-line error: exit 2)" "expects an integer" "$bin" run -m "$good" -n lots
done
exit $fail
