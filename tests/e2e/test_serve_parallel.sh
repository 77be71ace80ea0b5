#!/usr/bin/env bash
# Batched decode in wgpt serve is exact: 8 greedy requests with different
# prompts (completions and chat, streamed and not), sent together to a
# server of 8 slots, each return exactly what the same request returns
# alone (text, finish_reason, token counts); /health shows that the steps
# did decode several sequences together. Then a conversation that goes on
# (prefix reuse from a slot's cache) returns what it returns from scratch.
# WGPT=build-san/wgpt runs it against the ASan/UBSan build.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
. tests/e2e/serve_lib.sh
M=models/default.gguf
serve_start "$tmp/s.log" 590 -m $M --parallel 8
[ -n "$sport" ] || { cat "$tmp/s.log"; echo "FAIL the server did not start"; exit 1; }
prompts=("In the beginning" "The LORD is my shepherd;" "And Jesus answered and said" "Blessed are the meek"
         "Thus saith the LORD of hosts" "And it came to pass" "Now the serpent was" "Love is")
# req I: the body of request I (even: completion, odd: chat; I % 4 >= 2: streamed)
req() {
  local i=$1 p=${prompts[$1]} stream=false
  [ $((i % 4)) -ge 2 ] && stream=true
  if [ $((i % 2)) -eq 0 ]; then
    printf '{"prompt":"%s","max_tokens":%d,"temperature":0,"stream":%s,"stream_options":{"include_usage":true}}' "$p" $((5 + i)) $stream
  else
    printf '{"messages":[{"role":"user","content":"%s"}],"max_tokens":%d,"temperature":0,"stream":%s,"stream_options":{"include_usage":true}}' "$p" $((5 + i)) $stream
  fi
}
url() { [ $(($1 % 2)) -eq 0 ] && echo $base/v1/completions || echo $base/v1/chat/completions; }
# result FILE: text, finish_reason and usage of a reply, streamed or not, as one line
result() {
  $PY - "$1" <<'PY'
import json, sys
raw = open(sys.argv[1], encoding="utf-8").read()
if raw.startswith(("data: ", ":")):  # a stream (perhaps a keep-alive comment first)
    text, fin, usage, done = "", None, None, False
    for e in raw.split("\n\n"):
        if not e.startswith("data: "): continue  # ": keep-alive" comments
        p = e[6:]
        if p == "[DONE]": done = True; continue
        d = json.loads(p)
        usage = d.get("usage") or usage
        for c in d["choices"]:
            text += c.get("delta", {}).get("content") or c.get("text") or ""
            fin = c.get("finish_reason") or fin
    assert done, "no [DONE]"
else:
    d = json.loads(raw); c = d["choices"][0]
    text = c["message"]["content"] if "message" in c else c["text"]
    fin, usage = c["finish_reason"], d["usage"]
print(json.dumps([text, fin, usage]))
PY
}
for i in $(seq 0 7); do
  curl -sN --max-time 300 "$(url $i)" -d "$(req $i)" >"$tmp/alone$i"
  result "$tmp/alone$i" >"$tmp/alone$i.r" || bad "alone $i: $(head -c 300 "$tmp/alone$i")"
done
steps0=$(curl -s $base/health | $PY -c 'import json,sys; print(json.load(sys.stdin)["steps"])')
cpids=()
for i in $(seq 0 7); do
  curl -sN --max-time 300 "$(url $i)" -d "$(req $i)" >"$tmp/par$i" &
  cpids+=($!)
done
wait "${cpids[@]}"
for i in $(seq 0 7); do
  result "$tmp/par$i" >"$tmp/par$i.r" 2>/dev/null || { bad "parallel $i: $(head -c 300 "$tmp/par$i")"; continue; }
  if cmp -s "$tmp/alone$i.r" "$tmp/par$i.r"; then ok "request $i: together = alone $(cut -c1-90 "$tmp/par$i.r")"
  else bad "request $i: alone $(cat "$tmp/alone$i.r"), together $(cat "$tmp/par$i.r")"; fi
done
health=$(curl -s $base/health)
echo "health: $health"
max=$(echo "$health" | $PY -c 'import json,sys; print(json.load(sys.stdin)["max_seqs_in_step"])')
steps=$(echo "$health" | $PY -c 'import json,sys; print(json.load(sys.stdin)["steps"])')
[ "$max" -ge 6 ] && ok "steps decoded up to $max sequences together" || bad "at most $max sequences in a step"
# 8 requests of 5..12 tokens alone take about 8 x 9 steps
[ $((steps - steps0)) -le 30 ] && ok "the 8 requests took $((steps - steps0)) steps together" || bad "the 8 requests took $((steps - steps0)) steps"

# a conversation that goes on: its second request keeps the first's prompt in the cache
c1='{"messages":[{"role":"user","content":"In the beginning"},{"role":"assistant","content":"God created the heaven and the earth."},{"role":"user","content":"And the earth was"}],"max_tokens":12,"temperature":0}'
curl -s $base/v1/chat/completions -d "$c1" >"$tmp/c1"; result "$tmp/c1" >"$tmp/c1.r"
curl -s $base/v1/chat/completions -d "$c1" >"$tmp/c2"; result "$tmp/c2" >"$tmp/c2.r"
cmp -s "$tmp/c1.r" "$tmp/c2.r" && ok "the same conversation again (its prompt from the cache) = from scratch" || bad "prefix reuse: $(cat "$tmp/c1.r") vs $(cat "$tmp/c2.r")"
grep -q "POST /v1/chat/completions 200 prompt=[0-9]* (cached [1-9]" "$tmp/s.log" && ok "prefix reuse happened (log: cached > 0)" || bad "no request reused a cached prefix"
[ $fails -eq 0 ] || { tail -n 25 "$tmp/s.log"; echo "$fails failed"; exit 1; }
echo "all passed"
