#!/usr/bin/env bash
# wgpt serve against the official npm `openai` client and plain curl, on the
# default model (no chat template: the plain fallback) and on the default
# model given a chat template (gguf_edit.py): models.list, chat and
# completions, streamed and not (tests/oracle/serve_openai.mjs holds the
# streamed text, finish_reason and usage to the non-streamed ones); greedy
# replies equal `wgpt run --temp 0` on the same prompt; the prompt the server
# renders (/apply-template) equals `wgpt template`'s, and usage.prompt_tokens
# `wgpt tokenize --special`'s count of it; stop strings cut the text before
# them, streamed or not; --api-key; a stop signal ends the server promptly.
# WGPT=build-san/wgpt runs it against the ASan/UBSan build.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
. tests/e2e/serve_lib.sh
command -v node >/dev/null || { echo "node not installed"; exit 77; }
[ -f deps/node_modules/openai/package.json ] || { echo "npm openai missing (scripts/setup.sh)"; exit 77; }
export WGPT_ROOT=${WGPT_ROOT:-$(pwd)}
M=models/default.gguf
N=16
# same LABEL EXPECTED ACTUAL
same() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected [$2], got [$3]"; fi; }

# ---- the default model: no template, plain text ----
serve_start "$tmp/a.log" 170 -m $M --parallel 2 --api-key s3cret
[ -n "$sport" ] || { cat "$tmp/a.log"; echo "FAIL the server did not start"; exit 1; }
H=(-H "Authorization: Bearer s3cret")
same "/health needs no key" 200 "$(curl -s -o /dev/null -w '%{http_code}' $base/health)"
same "/v1/models without the key: 401" 401 "$(curl -s -o "$tmp/e" -w '%{http_code}' $base/v1/models)"
grep -q '"invalid_request_error"' "$tmp/e" && ok "401 carries an OpenAI error object" || bad "401 body: $(cat "$tmp/e")"
same "/v1/models with the key" default.gguf "$(curl -s "${H[@]}" $base/v1/models | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')"

spec='{"chat":[{"role":"user","content":"In the beginning"}],"prompt":"The LORD is my shepherd;","max_tokens":'$N'}'
node tests/oracle/serve_openai.mjs $base/v1 default.gguf s3cret "$spec" >"$tmp/oa.json" 2>"$tmp/oa.err" \
  && ok "openai client: list, chat and completions, streamed = not streamed, 400 and 401 as the client's errors" \
  || bad "openai client: $(cat "$tmp/oa.err")"
"$WGPT" run -m $M -p "The LORD is my shepherd;" -n $N --temp 0 >"$tmp/run1" 2>/dev/null
"$WGPT" run -m $M -p $'In the beginning\n' -n $N --temp 0 >"$tmp/run2" 2>/dev/null
$PY - "$tmp/oa.json" "$tmp/run1" "$tmp/run2" <<'PY' && ok "greedy completion = wgpt run; plain chat reply = run's first line" || bad "replies differ from wgpt run"
import json, sys
d = json.load(open(sys.argv[1]))
run1 = open(sys.argv[2], encoding="utf-8").read(); run2 = open(sys.argv[3], encoding="utf-8").read()
t = d["completion"]["text"]
print("completion:", repr(t)); print("run:       ", repr(run1))
assert t and t + ("" if t.endswith("\n") else "\n") == run1
c = d["chat"]["text"]
print("chat:", repr(c), d["chat"]["finish_reason"]); print("run: ", repr(run2))
assert c == run2.split("\n")[0]
assert d["chat"]["finish_reason"] == ("stop" if "\n" in run2[:-1] else "length")
PY
same "completion usage.prompt_tokens = wgpt tokenize --special" \
  "$(printf '%s' "The LORD is my shepherd;" | "$WGPT" tokenize --special -m $M | wc -w)" \
  "$(json "$tmp/oa.json" 'd["completion"]["usage"]["prompt_tokens"]')"

# the plain fallback is wgpt chat's: each message on a line
printf '%s' '{% for m in messages %}{{ m.content }}
{% endfor %}' >"$tmp/plain.jinja"
msgs='[{"role":"user","content":"In the beginning"},{"role":"assistant","content":"God created"},{"role":"user","content":"Amen"}]'
printf '%s' "$msgs" >"$tmp/msgs.json"
curl -s "${H[@]}" $base/apply-template -d "{\"messages\": $msgs}" | $PY -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["prompt"])' >"$tmp/at"
"$WGPT" template -m $M --chat-template-file "$tmp/plain.jinja" "$tmp/msgs.json" >"$tmp/tpl"
cmp -s "$tmp/at" "$tmp/tpl" && ok "plain: /apply-template = wgpt template with chat's plain template" || bad "plain: /apply-template [$(cat "$tmp/at")] vs [$(cat "$tmp/tpl")]"

# stop strings: the text before the first one, streamed (held back) or not
run1=$(cat "$tmp/run1")
want=${run1%% break*}
[ "$want" != "$run1" ] || bad "the greedy run has no ' break' to stop at: $run1"
body='{"prompt":"The LORD is my shepherd;","max_tokens":'$N',"temperature":0,"stop":[" break","zzz"]}'
curl -s "${H[@]}" $base/v1/completions -d "$body" >"$tmp/stop.json"
same "stop: text before it" "$want" "$(json "$tmp/stop.json" 'd["choices"][0]["text"]')"
same "stop: finish_reason stop" stop "$(json "$tmp/stop.json" 'd["choices"][0]["finish_reason"]')"
curl -sN "${H[@]}" $base/v1/completions -d "${body%\}},\"stream\":true}" >"$tmp/stop.sse"
same "stop, streamed: the same text, [DONE]" "$($PY -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$want")"$'\n'DONE "$(sse_text "$tmp/stop.sse")"
# a stop string that is a prefix of what comes: " b" and " bre" end it at the first " b"
curl -s "${H[@]}" $base/v1/completions -d '{"prompt":"The LORD is my shepherd;","max_tokens":'$N',"temperature":0,"stop":"; n"}' >"$tmp/stop2.json"
same "stop as a string" "${run1%%; n*}" "$(json "$tmp/stop2.json" 'd["choices"][0]["text"]')"

# raw SSE with curl: role first, content deltas, finish_reason, usage, [DONE]
curl -sN "${H[@]}" $base/v1/chat/completions -d '{"messages":[{"role":"user","content":"And God said"}],"max_tokens":6,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}' >"$tmp/raw.sse"
$PY - "$tmp/raw.sse" <<'PY' && ok "SSE: data: lines, role first, finish_reason, usage, [DONE] last" || bad "SSE: $(head -c 600 "$tmp/raw.sse")"
import json, sys
raw = open(sys.argv[1]).read()
ev = [e for e in raw.split("\n\n") if not e.startswith(":")]  # keep-alive comments aside
assert ev[-1] == "" and ev[-2] == "data: [DONE]", ev[-2:]
ds = [json.loads(e[6:]) for e in ev[:-2]]
assert all(e.startswith("data: ") for e in ev[:-1])
assert ds[0]["choices"][0]["delta"]["role"] == "assistant"
assert ds[-2]["choices"][0]["finish_reason"] in ("stop", "length")
assert ds[-1]["choices"] == [] and ds[-1]["usage"]["completion_tokens"] >= 1
assert len({d["id"] for d in ds}) == 1
PY
same "/v1/completions 16 tokens: finish_reason length" length "$(json "$tmp/oa.json" 'd["completion"]["finish_reason"]')"
serve_stop "$spid" 5
same "SIGTERM stops the server within 5 s" stopped "$stopped"
grep -q "In the beginning\|shepherd" "$tmp/a.log" && bad "the log holds message text without -v" || ok "no message text in the log without -v"
same "one log line per request" "$(grep -c '^serve: POST /v1/completions 200' "$tmp/a.log")" 5

# ---- the default model with a chat template ----
tpl='{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}
{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}'
printf '%s' "$tpl" >"$tmp/t.jinja"
$PY tests/e2e/gguf_edit.py $M "$tmp/chat.gguf" --rename-key general.name tokenizer.chat_template \
  --set-str tokenizer.chat_template "@$tmp/t.jinja" >/dev/null || { bad "gguf_edit"; exit 1; }
serve_start "$tmp/b.log" 120 -m "$tmp/chat.gguf" --parallel 2 --model-alias tiny-chat
[ -n "$sport" ] || { cat "$tmp/b.log"; echo "FAIL the second server did not start"; exit 1; }
msgs='[{"role":"system","content":"Thou art a \"scribe\" — café"},{"role":"user","content":"In the beginning"}]'
printf '%s' "$msgs" >"$tmp/m2.json"
curl -s $base/apply-template -d "{\"messages\": $msgs}" | $PY -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["prompt"])' >"$tmp/at2"
"$WGPT" template -m "$tmp/chat.gguf" "$tmp/m2.json" >"$tmp/tpl2"
cmp -s "$tmp/at2" "$tmp/tpl2" && ok "template: /apply-template = wgpt template ($(wc -c <"$tmp/tpl2") bytes)" || bad "template: [$(cat "$tmp/at2")] vs [$(cat "$tmp/tpl2")]"
spec2="{\"chat\":$msgs,\"prompt\":\"And God said\",\"max_tokens\":$N}"
node tests/oracle/serve_openai.mjs $base/v1 tiny-chat none "$spec2" >"$tmp/oa2.json" 2>"$tmp/oa2.err" \
  && ok "template: openai client, streamed = not streamed" || bad "template: openai client: $(cat "$tmp/oa2.err")"
# (--special also adds the BOS the tokenizer puts before a text; the rendering carries its own)
same "template: usage.prompt_tokens = wgpt tokenize --special of the rendering, less the BOS it adds" \
  "$(( $("$WGPT" tokenize --special -m "$tmp/chat.gguf" <"$tmp/tpl2" | wc -w) - $(printf '' | "$WGPT" tokenize --special -m "$tmp/chat.gguf" | wc -w) ))" \
  "$(json "$tmp/oa2.json" 'd["chat"]["usage"]["prompt_tokens"]')"
# the rendering starts with the BOS text, read as the BOS token: wgpt run adds the same BOS to the rest
bos='<|bos|>'
rest=$(cat "$tmp/tpl2"; printf x); rest=${rest%x}
[ "${rest:0:${#bos}}" = "$bos" ] || bad "the rendering does not start with $bos"
"$WGPT" run -m "$tmp/chat.gguf" -p "${rest:${#bos}}" -n $N --temp 0 >"$tmp/run3" 2>/dev/null
$PY - "$tmp/oa2.json" "$tmp/run3" <<'PY' && ok "template: greedy chat reply = wgpt run of the rendering" || bad "template: chat reply differs from wgpt run"
import json, sys
c = json.load(open(sys.argv[1]))["chat"]["text"]; r = open(sys.argv[2], encoding="utf-8").read()
print("chat:", repr(c)); print("run: ", repr(r))
assert c and c + ("" if c.endswith("\n") else "\n") == r
PY
serve_stop "$spid" 5
same "second server stops on SIGTERM" stopped "$stopped"
[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
