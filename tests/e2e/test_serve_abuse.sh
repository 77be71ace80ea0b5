#!/usr/bin/env bash
# wgpt serve under abuse, on loopback: malformed JSON, wrong types, a 10 MB
# body (with and without Content-Length), a 1 MB prompt, a prompt past the
# context, slowloris connections, clients that vanish mid-stream or before
# their reply, a full queue, requests without or with a wrong --api-key.
# Each gets its 4xx (or 503, or is dropped) with an OpenAI error object,
# and a normal request succeeds after each. Bounded in time.
# WGPT=build-san/wgpt runs it against the ASan/UBSan build.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
. tests/e2e/serve_lib.sh
M=models/default.gguf
KEY=k3y
serve_start "$tmp/s.log" 500 -m $M --parallel 2 --queue 2 --api-key $KEY --timeout 3 --max-connections 64
[ -n "$sport" ] || { cat "$tmp/s.log"; echo "FAIL the server did not start"; exit 1; }
A=(-H "Authorization: Bearer $KEY")
# status_of EXPECTED_PARAM URL BODY: "STATUS TYPE PARAM" of the reply
status_of() {
  curl -s --max-time 60 -o "$tmp/r" -w '%{http_code}' "${A[@]}" "$1" --data-binary "$2" >"$tmp/code"
  printf '%s ' "$(cat "$tmp/code")"
  $PY -c 'import json,sys
try:
    e = json.load(open(sys.argv[1]))["error"]; print(e["type"], e["param"] or "-", e["code"] or "-")
except Exception as x: print("no-error-object")' "$tmp/r"
}
expect() { # LABEL EXPECTED URL BODY
  local got; got=$(status_of "$3" "$4")
  [ "$got" = "$2" ] && ok "$1: $got" || bad "$1: expected [$2], got [$got] $(head -c 200 "$tmp/r")"
}
# alive: a normal request still succeeds
alive() {
  local out; out=$(curl -s --max-time 120 "${A[@]}" $base/v1/completions -d '{"prompt":"And God said","max_tokens":2,"temperature":0}')
  echo "$out" | grep -q '"finish_reason"' && ok "  ... and a normal request succeeds after $1" || bad "no normal request after $1: $out"
}
C=$base/v1/chat/completions; P=$base/v1/completions
msg='"messages":[{"role":"user","content":"hi"}]'
expect "malformed JSON" "400 invalid_request_error - -" $C '{"messages": [,}'
expect "truncated JSON" "400 invalid_request_error - -" $C '{"messages": [{"role":"user","content":"hi"}'
expect "not an object" "400 invalid_request_error - -" $C '[1,2,3]'
expect "empty body" "400 invalid_request_error - -" $C ''
expect "invalid UTF-8" "400 invalid_request_error - -" $C $'{"prompt":"\xff\xfe"}'
expect "temperature a string" "400 invalid_request_error temperature -" $C "{$msg,\"temperature\":\"hot\"}"
expect "temperature negative" "400 invalid_request_error temperature -" $C "{$msg,\"temperature\":-1}"
expect "max_tokens a fraction" "400 invalid_request_error max_tokens -" $C "{$msg,\"max_tokens\":1.5}"
expect "max_tokens negative" "400 invalid_request_error max_tokens -" $C "{$msg,\"max_tokens\":-3}"
expect "top_k huge" "400 invalid_request_error top_k -" $C "{$msg,\"top_k\":1e300}"
expect "messages a string" "400 invalid_request_error messages -" $C '{"messages":"hi"}'
expect "messages empty" "400 invalid_request_error messages -" $C '{"messages":[]}'
expect "message not an object" "400 invalid_request_error messages -" $C '{"messages":[1]}'
expect "message without role" "400 invalid_request_error messages -" $C '{"messages":[{"content":"x"}]}'
expect "content a number" "400 invalid_request_error messages -" $C '{"messages":[{"role":"user","content":5}]}'
expect "image content part" "400 invalid_request_error messages -" $C '{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}'
expect "stop a number" "400 invalid_request_error stop -" $C "{$msg,\"stop\":5}"
expect "stream a string" "400 invalid_request_error stream -" $C "{$msg,\"stream\":\"yes\"}"
expect "n = 2" "400 invalid_request_error n unsupported_parameter" $C "{$msg,\"n\":2}"
expect "presence_penalty 0.5" "400 invalid_request_error presence_penalty unsupported_parameter" $C "{$msg,\"presence_penalty\":0.5}"
expect "seed a string" "400 invalid_request_error seed -" $C "{$msg,\"seed\":\"x\"}"
expect "prompt missing" "400 invalid_request_error prompt -" $P '{"max_tokens":2}'
expect "prompt a number" "400 invalid_request_error prompt -" $P '{"prompt":5}'
expect "deep nesting" "400 invalid_request_error - -" $C "$(printf '[%.0s' $(seq 500))"
expect "unknown endpoint" "404 invalid_request_error - not_found" $base/v1/embeddings '{}'
curl -s -o /dev/null -w '%{http_code}' "${A[@]}" $C >"$tmp/code"  # a GET
[ "$(cat "$tmp/code")" = 405 ] && ok "GET /v1/chat/completions: 405" || bad "GET chat: $(cat "$tmp/code")"
ok "(unknown fields are ignored:)"; expect "unknown fields" "200 no-error-object" $P '{"prompt":"Amen","max_tokens":1,"frobnicate":{"x":[1,2]},"user":"u","logit_bias":{}}'
alive "wrong types"

# keys
code=$(curl -s -o "$tmp/r" -w '%{http_code}' $P -d '{"prompt":"x"}')
[ "$code" = 401 ] && grep -q invalid_api_key "$tmp/r" && ok "no key: 401 invalid_api_key" || bad "no key: $code $(cat "$tmp/r")"
for k in k3 k3yy K3Y "" "k3y "; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $k" $P -d '{"prompt":"x"}')
  [ "$code" = 401 ] && ok "key '$k': 401" || bad "key '$k': $code"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $KEY" $P -d '{"prompt":"x"}')
[ "$code" = 401 ] && ok "Basic instead of Bearer: 401" || bad "Basic: $code"

# bodies past --max-body (1 MiB): 413, with Content-Length or chunked
head -c 10000000 /dev/zero | tr '\0' 'a' >"$tmp/big"
code=$(curl -s --max-time 60 -o "$tmp/r" -w '%{http_code}' "${A[@]}" $C --data-binary @"$tmp/big")
[ "$code" = 413 ] && ok "10 MB body: 413" || bad "10 MB body: $code $(head -c 200 "$tmp/r")"
code=$(curl -s --max-time 60 -o "$tmp/r" -w '%{http_code}' "${A[@]}" -H "Transfer-Encoding: chunked" $C --data-binary @"$tmp/big")
[ "$code" = 413 ] && ok "10 MB chunked body: 413" || bad "10 MB chunked body: $code $(head -c 200 "$tmp/r")"
alive "10 MB bodies"
# a 1 MB prompt fits the body limit and is refused without tokenizing it
$PY -c 'import json; print(json.dumps({"prompt": "In the beginning " * 58000, "max_tokens": 2}))' >"$tmp/mb.json"
t0=$SECONDS
expect "1 MB prompt ($(wc -c <"$tmp/mb.json") bytes)" "400 invalid_request_error prompt context_length_exceeded" $P @"$tmp/mb.json"
[ $((SECONDS - t0)) -le 5 ] && ok "  ... refused in $((SECONDS - t0)) s" || bad "1 MB prompt took $((SECONDS - t0)) s"
$PY -c 'import json; print(json.dumps({"messages": [{"role": "user", "content": "And God said " * 58000}]}))' >"$tmp/mb2.json"
expect "1 MB chat message" "400 invalid_request_error messages context_length_exceeded" $C @"$tmp/mb2.json"
# past the context by tokens (256): a few hundred words
$PY -c 'import json; print(json.dumps({"prompt": "and the LORD spake unto Moses " * 60}))' >"$tmp/ctx.json"
expect "prompt of ~360 tokens in a context of 256" "400 invalid_request_error prompt context_length_exceeded" $P @"$tmp/ctx.json"
alive "1 MB prompts"
# max_tokens past the context's end: clipped, finish_reason length
$PY -c 'import json; print(json.dumps({"prompt": "and the LORD spake unto Moses " * 41, "max_tokens": 100000, "temperature": 0, "repeat_penalty": 1.3}))' >"$tmp/fill.json"
curl -s --max-time 200 "${A[@]}" $P --data-binary @"$tmp/fill.json" >"$tmp/fill.out"
fin=$(json "$tmp/fill.out" 'd["choices"][0]["finish_reason"], d["usage"]["prompt_tokens"] + d["usage"]["completion_tokens"]' 2>&1)
case "$fin" in "length 257"|"stop "*) ok "max_tokens clipped at the context's end: $fin";; *) bad "context end: $fin $(head -c 200 "$tmp/fill.out")";; esac

# slowloris: 40 connections that send a header a byte at a time stay open no longer than
# --timeout (3 s) past their last byte, and do not stop others meanwhile
$PY - "$sport" >"$tmp/loris" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(40):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"); socks.append(s)
time.sleep(1)
for s in socks:
    try: s.sendall(b"X")
    except OSError: pass
t0 = time.time(); closed = 0
for s in socks:
    s.settimeout(max(0.1, 12 - (time.time() - t0)))
    try:
        closed += s.recv(100) == b"" or True
    except socket.timeout: pass
    except OSError: closed += 1
print("closed", closed, "in", round(time.time() - t0, 1))
PY
loris=$!
sleep 1.5
alive "40 slowloris connections opened"
wait $loris
grep -q "^closed 40 " "$tmp/loris" && ok "slowloris: all 40 dropped ($(cat "$tmp/loris"))" || bad "slowloris: $(cat "$tmp/loris")"

# clients that vanish: streams killed after their first bytes, and a non-streaming
# client that gives up; their slots are free again at once
for i in 1 2; do
  curl -sN "${A[@]}" $C -d '{"messages":[{"role":"user","content":"And it came to pass '$i'"}],"max_tokens":200,"stream":true}' >"$tmp/v$i" &
  vp[$i]=$!
done
for _ in $(seq 300); do [ -s "$tmp/v1" ] && [ -s "$tmp/v2" ] && break; sleep 0.1; done
kill -9 ${vp[1]} ${vp[2]} 2>/dev/null; wait ${vp[1]} ${vp[2]} 2>/dev/null
curl -s --max-time 2 "${A[@]}" $P -d '{"prompt":"And the king said","max_tokens":200}' >/dev/null
freed=
for _ in $(seq 100); do
  b=$(curl -s $base/health | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["slots_busy"] + d["waiting"])')
  [ "$b" = 0 ] && { freed=1; break; }; sleep 0.2
done
[ -n "$freed" ] && ok "vanished clients: every slot free again" || bad "vanished clients still hold slots: $(curl -s $base/health)"
[ "$(grep -c 'connection closed early' "$tmp/s.log")" -ge 3 ] && ok "  ... logged as closed early" || bad "vanished clients not logged: $(tail -n 5 "$tmp/s.log")"
alive "vanished clients"

# a full queue: 2 slots + 2 waiting; 8 at once: the rest get 503 right away
for i in $(seq 8); do
  curl -s --max-time 200 -o "$tmp/q$i" -w '%{http_code}\n' "${A[@]}" $P -d '{"prompt":"Amen '$i'","max_tokens":3}' >"$tmp/qc$i" &
  qp[$i]=$!
done
wait "${qp[@]}"
n503=$(cat "$tmp"/qc* | grep -c 503); n200=$(cat "$tmp"/qc* | grep -c 200)
[ "$n503" -ge 1 ] && [ "$n200" -ge 4 ] && [ $((n503 + n200)) -eq 8 ] && grep -q server_busy "$tmp"/q* \
  && ok "queue full: $n200 served, $n503 refused with 503" || bad "queue: $(cat "$tmp"/qc* | tr '\n' ' ')"
alive "a full queue"
grep -q "In the beginning\|And God said\|Moses" "$tmp/s.log" && bad "message text in the log without -v" || ok "no message text in the log"
serve_stop "$spid" 5
[ "$stopped" = stopped ] && ok "SIGTERM: stopped" || bad "SIGTERM: still running"
[ $fails -eq 0 ] || { tail -n 20 "$tmp/s.log"; echo "$fails failed"; exit 1; }
echo "all passed"
