#!/usr/bin/env bash
# Everything a user or a hostile model file can give the command line:
# escape sequences from a GGUF (keys, tensor names, the architecture, the
# vocabulary) and from option values; out-of-range, NaN and overflowing
# numbers; stdin that cannot be read; stdout that cannot be written; odd
# paths. Each check names the finding of ../shared/design/qa-2026-11-29.md
# it covers (tests/QA.md maps every finding to its test).
set -u
. tests/e2e/lib.sh
need_wgpt
PY=/usr/bin/python3
W=${WGPT:-build/wgpt}
base=$(tiny_model qa_f32 --type f32 --seed 1) || exit 1
small=$(tiny_model qa_ctx64 --type q8_0 --seed 2 --ctx 64) || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# run_cmd: runs "$@" with stdin from $IN (default /dev/null); sets rc, out, err files.
run_cmd() { timeout 120 "$@" <"${IN:-/dev/null}" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
# Raw control bytes other than newline and tab, or a C1 control as UTF-8.
has_ctrl() { LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$@"; }
# expect ID RC PATTERN CMD...: exit status RC, stderr one line matching PATTERN, no raw control byte anywhere.
expect() {
  local id=$1 want=$2 pat=$3; shift 3
  run_cmd "$@"
  local lines; lines=$(grep -c . "$tmp/err")
  if [ "$rc" -ne "$want" ]; then bad "$id: exit $rc, expected $want: $(head -c 300 "$tmp/err")"
  elif [ -n "$pat" ] && ! grep -q -- "$pat" "$tmp/err"; then bad "$id: stderr lacks '$pat': $(head -c 300 "$tmp/err")"
  elif [ "$want" -ne 0 ] && [ "$lines" -ne 1 ]; then bad "$id: $lines lines on stderr: $(head -c 300 "$tmp/err")"
  elif has_ctrl "$tmp/err" || has_ctrl "$tmp/out"; then bad "$id: raw control bytes in the output"
  else ok "$id: $(head -n1 "$tmp/err" | head -c 160)"; fi
}

# ---- S1: escape sequences in a model file reach no terminal raw ----
E=tests/e2e/gguf_edit.py
$PY $E "$base" "$tmp/evil_key.gguf" --rename-key general.file_type '\x1b[2J\x1b]0;PWNED\x07xxx' \
  --rename-tensor output_norm.weight '\x1b[31mRED\x1b[0mweight' || exit 1
$PY $E "$base" "$tmp/evil_arch.gguf" --set-str general.architecture '\x1b[2JX' || exit 1
$PY $E "$base" "$tmp/evil_tensor.gguf" --copy-tensor output_norm.weight 'x\x1b[31mRED\x1b[0m\x1b]0;PWNED\x07' || exit 1
$PY $E "$base" "$tmp/evil_tok.gguf" --set-str tokenizer.ggml.model '\x1b]0;PWNED\x07' || exit 1
# A vocabulary whose every ordinary token holds an escape sequence, a bell, a C1 CSI or a bidi override.
args=(); for i in $(seq 3 511); do args+=(--token "$i" "t$i\\x1b[2J\\x07\\xc2\\x9b\\u202e"); done
$PY $E "$base" "$tmp/evil_vocab.gguf" "${args[@]}" || exit 1
expect "S1 inspect: metadata key and tensor name" 0 "" $W inspect "$tmp/evil_key.gguf"
grep -q 'x1b\[2J\\x1b\]0;PWNED\\x07xxx' "$tmp/out" && grep -q '\\x1b\[31mRED' "$tmp/out" \
  && ok "S1 inspect shows them escaped" || bad "S1 inspect does not show the escaped names"
expect "S1 inspect: architecture (header line)" 0 "" $W inspect "$tmp/evil_arch.gguf"
grep -q 'hyperparameters (\\x1b\[2JX' "$tmp/out" && ok "S1 hyperparameters header escaped" || bad "S1 header"
expect "S1 run: unsupported architecture" 1 "architecture" $W run -m "$tmp/evil_arch.gguf" -p hi -n 1
expect "S1 run: unexpected tensor name" 1 "unexpected tensor 'x.x1b" $W run -m "$tmp/evil_tensor.gguf" -p hi -n 1
expect "S1 tokenize: tokenizer model name" 1 "tokenizer" $W tokenize -m "$tmp/evil_tok.gguf"
expect "S1 run: generated tokens" 0 "" $W run -m "$tmp/evil_vocab.gguf" -p hi -n 24 --temp 0
grep -q '\\x1b\[2J' "$tmp/out" && ok "S1 run shows the vocabulary's escapes as text" || bad "S1 run: no escaped token in the output"
run_cmd $W run -m "$tmp/evil_vocab.gguf" -p hi -n 24 --temp 0 --raw
has_ctrl "$tmp/out" && ok "S1 run --raw writes the bytes as they are (the check above can fail)" || bad "S1 --raw"
IN=<(printf 'hello\nworld\n') expect "S1 chat: generated tokens" 0 "" $W chat -m "$tmp/evil_vocab.gguf" -n 12 --temp 0
expect "S1 verify: architecture" 1 "architecture" $W verify -m "$tmp/evil_arch.gguf"
expect "S1 verify: tensor name" 1 "unexpected tensor 'x.x1b" $W verify -m "$tmp/evil_tensor.gguf"
evil_path="$tmp/"$'\x1b]0;PWNED\x07\x1b[2J'".gguf"; cp "$tmp/evil_vocab.gguf" "$evil_path"
expect "S1 bench: model path with escapes" 0 "" $W bench -m "$evil_path" -p 4 -n 2 -r 1
expect "S1 bench --json: model path with escapes" 0 "" $W bench -m "$evil_path" -p 4 -n 2 -r 1 --json
expect "S1 inspect: path with escapes" 0 "" $W inspect "$evil_path"
IN=<(printf 'hello \x1b[2J world') expect "S1 tokenize: escapes in the text" 0 "" $W tokenize -m "$tmp/evil_vocab.gguf"
expect "S1 run: missing file with escapes in its name" 1 "cannot open" $W run -m "$tmp/"$'\x1b[2J'"nope.gguf" -p hi
expect "S1 option value echoed in an error" 2 "temp" $W run -m "$base" --temp $'\x1b[2J'
expect "S1 unknown option echoed" 2 "unknown option" $W run $'--\x1b]0;PWNED\x07'
expect "S1 output path echoed" 1 "cannot write" $W logits -m "$base" -p hi -o $'/nonexistent/\x1b[2J'
expect "S1 prompt with escapes" 0 "" $W run -m "$base" -p $'\x1b[2J\x1b]0;PWNED\x07' -n 4 --temp 0

# ---- S5: -n near LONG_MAX ----
expect "S5 -n LONG_MAX" 2 "\-n expects an integer" $W run -m "$base" -p hi -n 9223372036854775807
expect "S5 -n past LONG_MAX (ERANGE)" 2 "\-n expects an integer" $W run -m "$base" -p hi -n 99999999999999999999
expect "S5 -n past the context" 1 "exceed the context" $W run -m "$base" -p hi -n 1000

# ---- wgpt parallel: its prompts file ----
expect "PL parallel: missing prompts file" 1 "cannot open" $W parallel -m "$base" -f /nonexistent/prompts.txt
IN=<(printf '\n\r\n') expect "PL parallel: no prompts" 1 "no prompts" $W parallel -m "$base"
IN=<(printf 'a\0b\n') expect "PL parallel: a NUL byte" 1 "NUL" $W parallel -m "$base"
IN=<(printf 'ok\n\xff\xfe\n') expect "PL parallel: invalid UTF-8 names its line" 1 "prompt 2: .*UTF-8" $W parallel -m "$base" -n 2
IN=<(printf 'hi\n') expect "PL parallel: -n past the context" 1 "exceed the context" $W parallel -m "$base" -n 100000
IN=<(printf 'hi\n') expect "PL parallel: --parallel 0" 2 "\-\-parallel expects" $W parallel -m "$base" --parallel 0
IN=<(printf 'hi\n') expect "PL bench --parallel with -d" 2 "\-\-parallel" $W bench -m "$base" --parallel 2 -d 4

# ---- S6: inspect with no file and no default model ----
mkdir -p "$tmp/bin" && cp $W "$tmp/bin/wgpt"
for bin in "$tmp/bin/wgpt" build-san/wgpt; do
  [ -x "$bin" ] || continue
  [ "$bin" = build-san/wgpt ] && { mkdir -p "$tmp/san" && cp build-san/wgpt "$tmp/san/wgpt"; bin=$tmp/san/wgpt; }
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1 WGPT_MODEL= expect "S6 inspect without a model ($bin)" 1 "no model" "$bin" inspect
done

# ---- W1: sampling values ----
for a in "--temp nan" "--temp -1" "--temp inf" "--repeat-penalty 0" "--repeat-penalty 1e-45" "--repeat-penalty nan" \
         "--top-p -1" "--top-p 2" "--top-p nan" "--min-p 2" "--min-p nan" "--min-p -0.5"; do
  # shellcheck disable=SC2086
  expect "W1 run $a" 2 "${a%% *} expects a number" $W run -m "$base" -p hi -n 2 $a
done
IN=<(echo hi) expect "W1 chat --temp nan" 2 "\-\-temp expects" $W chat -m "$base" --temp nan

# ---- W2: integers that wrap or clamp ----
for a in "--top-k 4294967297" "--top-k 99999999999" "--repeat-last-n 4294967296" "--seed 99999999999999999999999" \
         "--seed -2" "--top-k -1" "--batch 1x"; do
  # shellcheck disable=SC2086
  expect "W2 run $a" 2 "${a%% *} expects" $W run -m "$base" -p hi -n 2 $a
done
IN=<(echo hi) expect "W2 chat --temp ''" 2 "non-empty\|expects" $W chat -m "$base" -n 3 --temp ""
IN=<(echo hi) expect "W2 chat --seed ''" 2 "expects" $W chat -m "$base" -n 3 --seed ""
# The default model (the tiny random ones are too peaked for sampling to vary).
$W run -p "The LORD" -n 12 --temp 1 --seed -1 --print-ids >"$tmp/s1" 2>/dev/null
$W run -p "The LORD" -n 12 --temp 1 --seed -1 --print-ids >"$tmp/s2" 2>/dev/null
[ -s "$tmp/s1" ] && ! cmp -s "$tmp/s1" "$tmp/s2" && ok "W2 --seed -1: a fresh seed each run" || bad "W2 --seed -1 gave the same tokens twice"

# ---- W4: read errors on stdin ----
IN=build expect "W4 run < directory" 1 "cannot read" $W run -m "$base" -n 3 --temp 0
IN=build expect "W4 tokenize < directory" 1 "cannot read" $W tokenize -m "$base"
IN=build expect "W4 chat < directory" 1 "cannot read" $W chat -m "$base" -n 3

# ---- W5: a NUL byte is part of the prompt ----
printf 'The\0LORD' | $W run -m "$base" -n 2 --temp 0 2>"$tmp/e1" >/dev/null
printf 'The' | $W run -m "$base" -n 2 --temp 0 2>"$tmp/e2" >/dev/null
n1=$(grep -o 'prompt [0-9]* tokens' "$tmp/e1"); n2=$(grep -o 'prompt [0-9]* tokens' "$tmp/e2")
[ -n "$n1" ] && [ "$n1" != "$n2" ] && ok "W5 run: 'The\\0LORD' is $n1, 'The' is $n2" || bad "W5 run cut the prompt at NUL ($n1 vs $n2)"
# The default model: its replies depend on the whole line.
first_chat=$(printf 'And the\0LORD said\n' | $W chat -n 8 --temp 0 2>/dev/null | head -n 1)
first_run=$(printf 'And the\0LORD said\n' | $W run -n 8 --temp 0 2>/dev/null | head -n 1)
cut_chat=$(printf 'And the\n' | $W chat -n 8 --temp 0 2>/dev/null | head -n 1)
[ -n "$first_run" ] && [ "$first_chat" = "$first_run" ] && [ "$first_chat" != "$cut_chat" ] \
  && ok "W5 chat reads the whole line past NUL (reply equals run's)" || bad "W5 chat: [$first_chat] vs run [$first_run] vs cut [$cut_chat]"

# ---- W6: stdout that cannot be written ----
for c in "run -m $base -p hi -n 4 --temp 0" "bench -m $base -p 4 -n 2 -r 1" "devices" "inspect $base" \
         "verify -m $base -p hi" "logits -m $base -p hi -o -"; do
  # shellcheck disable=SC2086
  timeout 120 $W $c >/dev/full 2>"$tmp/err" </dev/null; rc=$?
  [ $rc -eq 1 ] && grep -q "cannot write" "$tmp/err" && ok "W6 $c > /dev/full: exit 1" || bad "W6 $c > /dev/full: exit $rc: $(cat "$tmp/err")"
done
timeout 120 $W run -m "$base" -p hi -n 4 --temp 0 >&- 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && ok "W6 run with stdout closed: exit 1" || bad "W6 run >&-: exit $rc"
echo hi | timeout 120 $W chat -m "$base" -n 4 >/dev/full 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && ok "W6 chat > /dev/full: exit 1" || bad "W6 chat > /dev/full: exit $rc"
echo hi | timeout 120 $W tokenize -m "$base" >/dev/full 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && ok "W6 tokenize > /dev/full: exit 1" || bad "W6 tokenize > /dev/full: exit $rc"

# ---- W7: bench --json is JSON whatever the path ----
weird="$tmp/we\"ird\\name"$'\t'".gguf"; cp "$base" "$weird"
$W bench -m "$weird" -p 8 -n 4 -r 1 --json >"$tmp/bench.json" 2>/dev/null
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["model"]==sys.argv[2], d["model"]; assert d["pp_tok_s"]>0' \
  "$tmp/bench.json" "$weird" && ok "W7 bench --json parses, model path intact" || bad "W7 bench --json: $(cat "$tmp/bench.json")"

# ---- P1: bench says which path prompt steps took (issue 11) ----
pp_path() { # MODEL WANT [ENV...]: bench --json's pp_path starts with WANT
  local m="$1" want="$2"; shift 2
  env "$@" $W bench -m "$m" -p 8 -n 0 -r 1 --json >"$tmp/pp.json" 2>/dev/null &&
    $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["pp_path"].startswith(sys.argv[2]), d["pp_path"]'       "$tmp/pp.json" "$want"
}
pp_path "$base" "f32 tiles" && ok "P1 f32 model: f32 tiles" || bad "P1 f32 model: $(cat "$tmp/pp.json")"
pp_path "$small" "8-bit dot products" && ok "P1 q8_0 model: 8-bit by default" || bad "P1 q8_0 default: $(cat "$tmp/pp.json")"
pp_path "$small" "f32 tiles" WGPT_MATMUL_I8=0 && ok "P1 q8_0 model, WGPT_MATMUL_I8=0: f32 tiles" ||
  bad "P1 q8_0 with WGPT_MATMUL_I8=0: $(cat "$tmp/pp.json")"
pp_path "$base" "f32 tiles" WGPT_MATMUL_I8=1 && ok "P1 f32 model, WGPT_MATMUL_I8=1: still f32" ||
  bad "P1 f32 with WGPT_MATMUL_I8=1: $(cat "$tmp/pp.json")"

# ---- W9: tokens longer than 256 bytes come out whole ----
args=(); for i in $(seq 3 511); do args+=(--token "$i" "$i-$(printf 'Z%.0s' $(seq 1000))"); done
$PY $E "$base" "$tmp/longtok.gguf" "${args[@]}" || exit 1
$W run -m "$tmp/longtok.gguf" -p "hello world" -n 3 --temp 0 2>/dev/null >"$tmp/long.out"
[ "$(grep -o 'Z*' "$tmp/long.out" | awk '{ if (length($0) > m) m = length($0) } END { print m }')" = 1000 ] \
  && [ "$(wc -c <"$tmp/long.out")" -gt 3000 ] && ok "W9 1004-byte tokens printed whole ($(wc -c <"$tmp/long.out") bytes)" \
  || bad "W9 long tokens cut: $(wc -c <"$tmp/long.out") bytes"

# ---- W10: NaN weights are an error, not <unk><unk> ----
$PY $E "$base" "$tmp/nan.gguf" --nan blk.0.attn_q.weight || exit 1
expect "W10 NaN weights" 1 "not finite" $W run -m "$tmp/nan.gguf" -p hello -n 5 --temp 0

# ---- E1: bench with no options fits its defaults to the model ----
WGPT_MODEL=$small expect "E1 bench, no options, context 64" 0 "" $W bench
grep -q '| pp64 ' "$tmp/out" && grep -q '| tg63 ' "$tmp/out" && ok "E1 bench ran pp64 and tg63" || bad "E1 bench table: $(cat "$tmp/out")"
expect "E1 bench -p past the context says what fits" 1 "use -p 64" $W bench -m "$small" -p 512

# ---- E2: the hint only suggests -c when a larger one exists ----
long=$(printf 'the %.0s' $(seq 80))
expect "E2 at the model's context" 1 "the model's context is 64 tokens" $W run -m "$small" -p "$long" -n 4
expect "E2 below the model's context" 1 "use -c up to 64" $W run -m "$small" -c 32 -p "$long" -n 4
grep -q "larger -c" "$tmp/err" && bad "E2 still says 'larger -c'" || ok "E2 no impossible advice"

# ---- E7: bench -r 0 ----
expect "E7 bench -r 0" 2 "\-r expects an integer in 1..1000, got '0'" $W bench -m "$base" -r 0

# ---- E9: error prefixes ----
$PY $E "$base" "$tmp/bert.gguf" --set-str tokenizer.ggml.model bert || exit 1
expect "E9 tokenizer error once prefixed" 1 "unsupported tokenizer model" $W run -m "$tmp/bert.gguf" -p hi
grep -q "tokenizer: tokenizer:" "$tmp/err" && bad "E9 doubled prefix" || ok "E9 single prefix"

# ---- E10: one option parser, one behaviour ----
IN=/dev/null expect "E10 tokenize --bogus: one line, exit 2" 2 "unknown option '--bogus'" $W tokenize --bogus
expect "E10 run --bogus x: exit 2" 2 "unknown option" $W run --bogus x
expect "E10 devices --bogus: exit 2" 2 "unknown option" $W devices --bogus
IN=<(echo hi) expect "E10 chat -n 0 shows the value" 2 "got '0'" $W chat -m "$base" -n 0
IN=<(echo hi) expect "E10 chat --template checked before loading" 2 "unknown template 'nope'" $W chat -m "$tmp/nonexistent.gguf" --template nope
expect "E10 verify --atol nan" 2 "\-\-atol expects" $W verify -m "$base" --atol nan
expect "E10 --opt=value" 0 "" $W run -m "$base" -p hi -n 2 --temp=0
expect "E10 flag given a value" 2 "takes no value" $W run -m "$base" --print-ids=1
expect "E10 serve-web --bogus: one line, exit 2" 2 "unknown option '--bogus'" $W serve-web --bogus
expect "E10 serve-web --port 99999" 2 "\-\-port expects an integer in 0..65535" $W serve-web --port 99999
expect "E10 serve-web --port without a value" 2 "needs a value" $W serve-web --port
WGPT_MODEL=$tmp/nonexistent.gguf expect "E10 \$WGPT_MODEL named in the error" 1 "WGPT_MODEL" $W run -p hi

# ---- C1..C7: cosmetics that still mislead ----
run_cmd $W inspect
grep '^file:' "$tmp/out" | grep -q '/\.\./' && bad "C1 inspect shows a ../ path" || ok "C1 default model path: $(grep '^file:' "$tmp/out")"
$W bench -m "$base" -p 8 -n 4 -r 1 --profile >"$tmp/bench.txt" 2>/dev/null
$PY - "$tmp/bench.txt" <<'PY' && ok "C2 bench and profile tables aligned" || bad "C2 tables misaligned"
import sys
blocks, cur = [], []
for line in open(sys.argv[1], encoding='utf-8').read().splitlines():
    if line.startswith('|'): cur.append(line)
    elif cur: blocks.append(cur); cur = []
if cur: blocks.append(cur)
assert len(blocks) == 3, blocks   # the bench table, then generation and prompt profiles
for b in blocks:
    widths = {len(l) for l in b}   # characters, i.e. terminal columns for these tables
    assert len(widths) == 1, b
PY
run_cmd $W run -m "$base" -p hi -n 1 --temp 0
grep -q "generation 1 token, n/a" "$tmp/err" && [ -n "$(head -c1 "$tmp/err")" ] && [ "$(head -c1 "$tmp/err")" != $'\n' ] \
  && ok "C3 -n 1 summary: $(cat "$tmp/err")" || bad "C3 summary: $(cat -A "$tmp/err")"
wabs=$(readlink -f "$W"); babs=$(readlink -f "$base")
(cd "$tmp" && "$wabs" logits -m "$babs" --ids "1 5 9" -o - >"$tmp/logits.bin" 2>"$tmp/err"); rc=$?
[ $rc -eq 0 ] && [ "$(wc -c <"$tmp/logits.bin")" -eq $((3 * 512 * 4)) ] && [ ! -e "$tmp/-" ] \
  && ok "C5 logits -o - writes stdout" || bad "C5 logits -o -: exit $rc, $(wc -c <"$tmp/logits.bin") bytes"
$W run --help | grep -q -- "--model" && $W run --help | grep -q -- "--ctx-size" && ok "C6 aliases in --help" || bad "C6 help lacks aliases"
expect "C6 bench --json --profile refused" 2 "cannot go with --json" $W bench -m "$base" --json --profile
head -c 1000000 /dev/zero | tr '\0' k >"$tmp/key.txt"
$PY $E "$base" "$tmp/bigkey.gguf" --rename-key general.file_type "@$tmp/key.txt" || exit 1
run_cmd $W inspect "$tmp/bigkey.gguf"
[ $rc -eq 0 ] && [ "$(wc -c <"$tmp/out")" -lt 20000 ] && grep -q 'more bytes)' "$tmp/out" \
  && ok "C7 a 1 MB key is cut ($(wc -c <"$tmp/out") bytes of output)" || bad "C7 inspect printed $(wc -c <"$tmp/out") bytes"

echo "$fails failed"
[ $fails -eq 0 ]
