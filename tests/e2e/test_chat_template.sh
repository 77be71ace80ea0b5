#!/usr/bin/env bash
# wgpt chat with a model's own chat template: the conversation it renders
# each turn is what `wgpt template` and @huggingface/jinja render for the
# same messages; the KV cache is kept across turns (only the tokens past
# what it holds are fed: -v says how many); and what it holds is right: a
# greedy reply made on the kept cache equals `wgpt run` on that turn's
# whole prompt from an empty one. Twice: with a template under which each
# turn extends the last (the whole cache is kept), and with one that
# rewrites an older turn (the cache is rewound to where the renderings
# part, and refilled from there). The default model (byte-level BPE, Bible
# prose) with the templates set in its metadata; they hold no special
# tokens, so that `wgpt run` tokenizes a prompt as chat does.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
need_wgpt
W=${WGPT:-build/wgpt}
command -v node >/dev/null || { echo "skip: node is not installed"; exit 77; }
J=deps/node_modules/@huggingface/jinja/dist/index.cjs
[ -f $J ] || { echo "skip: @huggingface/jinja is missing (run scripts/setup.sh)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# conversation NAME TEMPLATE MIN_REUSE LINES...: chats LINES with the model
# carrying TEMPLATE, then checks the last turn. MIN_REUSE: "all" (each turn
# keeps every token of the one before) or "part" (the last turn parts from
# the cache inside it).
conversation() {
  local name=$1 tpl=$2 reuse=$3; shift 3
  local d=$tmp/$name; mkdir -p "$d"
  printf '%s' "$tpl" >"$d/t.jinja"
  $PY tests/e2e/gguf_edit.py models/default.gguf "$d/m.gguf" --rename-key general.name tokenizer.chat_template \
    --set-str tokenizer.chat_template "@$d/t.jinja" || { bad "$name: gguf_edit"; return; }
  printf '%s\n' "$@" | "$W" chat -m "$d/m.gguf" -n 16 --temp 0 -v --transcript "$d/t.json" >"$d/out" 2>"$d/err"
  local rc=$?
  [ $rc -eq 0 ] || { bad "$name: chat exit $rc: $(tail -c 400 "$d/err")"; return; }
  grep "chat: turn\|parts from" "$d/err"
  $PY - "$d/err" "$reuse" <<'PY' && ok "$name: the cache is kept ($reuse)" || bad "$name: reuse: $(grep turn "$d/err" | tr '\n' '|')"
import re, sys
err = open(sys.argv[1]).read()
t = [tuple(map(int, m)) for m in re.findall(r"turn \d+: (\d+) tokens, (\d+) reused from the cache, (\d+) fed", err)]
assert len(t) >= 3 and t[0][1] == 0 and t[0][2] == t[0][0], t
for prev, cur in zip(t, t[1:]):
    assert cur[1] + cur[2] == cur[0] and 0 < cur[1] and cur[2] < cur[0], (prev, cur)
    if sys.argv[2] == "all": assert cur[1] >= prev[0], (prev, cur)   # all of the last prompt, and some of the reply
last_prompt = t[-2][0]
if sys.argv[2] == "part": assert t[-1][1] < last_prompt and "parts from the cache" in err, t
PY
  # the last rendering (the transcript's) against wgpt template and @huggingface/jinja
  $PY - "$d" <<'PY' || { bad "$name: transcript unreadable"; return; }
import json, sys
d = sys.argv[1]
t = json.load(open(d + "/t.json"))
m = t["messages"]
open(d + "/prompt", "w", encoding="utf-8", newline="").write(t["prompt"])
json.dump(m, open(d + "/m.json", "w"))
json.dump(m[:-2], open(d + "/m_prev.json", "w"))              # the turn before, whose reply is m[-2]
open(d + "/reply_prev", "w", encoding="utf-8", newline="").write(m[-2]["content"])
assert [x["role"] for x in m][-3:] == ["user", "assistant", "user"], m
PY
  "$W" template -m "$d/m.gguf" "$d/m.json" >"$d/tpl" && cmp -s "$d/tpl" "$d/prompt" \
    && ok "$name: the last rendering equals wgpt template's ($(wc -c <"$d/prompt") bytes)" || bad "$name: chat's rendering differs from wgpt template's"
  node -e '
const {Template} = require(process.argv[1]); const fs = require("fs");
const m = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
process.stdout.write(new Template(fs.readFileSync(process.argv[3], "utf8")).render({messages: m, add_generation_prompt: true, bos_token: "<|bos|>", eos_token: "<|eos|>"}));
' "$PWD/$J" "$d/m.json" "$d/t.jinja" >"$d/hf"
  cmp -s "$d/hf" "$d/prompt" && ok "$name: and @huggingface/jinja's" || bad "$name: chat's rendering differs from @huggingface/jinja's"
  # the reply before the last turn, made on the kept cache, against a fresh run on that turn's prompt
  "$W" template -m "$d/m.gguf" "$d/m_prev.json" >"$d/prompt_prev"
  [ "$(head -c 7 "$d/prompt_prev")" = "<|bos|>" ] || { bad "$name: the prompt does not start with <|bos|>"; return; }
  local p; p=$(tail -c +8 "$d/prompt_prev"; echo x); p=${p%x}   # without the <|bos|> run adds itself
  "$W" run -m "$d/m.gguf" -p "$p" -n 16 --temp 0 >"$d/run" 2>"$d/run_err" || { bad "$name: run: $(cat "$d/run_err")"; return; }
  # run ends its output with a newline of its own when the text does not
  [ "$(tail -c 1 "$d/reply_prev" | od -An -c | tr -d ' ')" != '\n' ] && truncate -s -1 "$d/run"
  echo "chat: [$(cat "$d/reply_prev")]"; echo "run:  [$(cat "$d/run")]"
  [ -s "$d/run" ] && cmp -s "$d/reply_prev" "$d/run" && ok "$name: the reply made on the kept cache equals a fresh run's" \
    || bad "$name: the reply made on the kept cache differs from a fresh run on its prompt"
}

conversation extend '{{ bos_token }}{% for m in messages %}{{ m.content }}
{% endfor %}' all "And God said" "Blessed are the meek" "Amen"
# "(before)" follows the message before the last exchange: each turn moves it, so the
# rendering parts from the cache after the first messages
conversation rewrite '{{ bos_token }}{% for m in messages %}{{ m.content }}{% if loop.index0 == messages|length - 3 %} (before){% endif %}
{% endfor %}' part "And God said" "Blessed are the meek" "Amen" "And it came to pass" "Selah"

# A template that refuses a conversation (raise_exception) skips that line with its message.
printf '{{ raise_exception("no " ~ messages[-1].content) }}' >"$tmp/raise.jinja"
printf 'hi\nho\n' | "$W" chat -m models/default.gguf --chat-template-file "$tmp/raise.jinja" -n 4 >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ ! -s "$tmp/out" ] && grep -q "line 1 skipped: chat template: line 1: raise_exception: no hi" "$tmp/err" \
  && grep -q "line 2 skipped: .*no ho" "$tmp/err" && ok "raise_exception: each line skipped with the template's message" \
  || bad "raise_exception: exit $rc: $(tail -c 300 "$tmp/err")"

echo "$fails failed"
[ $fails -eq 0 ]
