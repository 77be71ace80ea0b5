#!/usr/bin/env bash
# wgpt serve under load, on loopback: three rounds of 64 concurrent
# streaming clients (chat and completions, greedy, 2 tokens each, 4
# different prompts) against 16 slots and a queue of 64. Every response
# must be complete (finish_reason, then data: [DONE]) and equal to the same
# request sent alone; the server's resident memory (VmRSS) after round 3
# may exceed that after round 1 by at most 12 MB (the first round allocates
# the caches, threads' stacks and buffers; later rounds must reuse them;
# what still moves is allocator and thread-stack caching, 2-7 MB measured;
# a leak of 300 kB a request, tried, fails it by far).
# WGPT=build-san/wgpt runs it against the ASan/UBSan build.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
. tests/e2e/serve_lib.sh
M=models/default.gguf
serve_start "$tmp/s.log" 590 -m $M --parallel 16 --queue 64
[ -n "$sport" ] || { cat "$tmp/s.log"; echo "FAIL the server did not start"; exit 1; }
$PY - "$sport" "$spid" <<'PY'
import http.client, json, sys, threading, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
prompts = ["In the beginning", "The LORD is my shepherd;", "And Jesus answered", "Blessed are the meek"]
def body(i):
    p = prompts[i % len(prompts)]
    b = {"max_tokens": 2, "temperature": 0, "stream": True}
    if i % 2: b["messages"] = [{"role": "user", "content": p}]
    else: b["prompt"] = p
    return i % 2, json.dumps(b)
def one(i, out):
    chat, b = body(i)
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        c.request("POST", "/v1/chat/completions" if chat else "/v1/completions", b, {"Content-Type": "application/json"})
        r = c.getresponse()
        if r.status != 200: out[i] = ("status", r.status, r.read()[:200]); return
        text, fin, done = "", None, False
        for raw in r.read().decode().split("\n\n"):
            if not raw.startswith("data: "): continue
            p = raw[6:]
            if p == "[DONE]": done = True; continue
            for ch in json.loads(p)["choices"]:
                text += (ch.get("delta", {}).get("content") if chat else ch.get("text")) or ""
                fin = ch.get("finish_reason") or fin
        out[i] = (text, fin, done)
    except Exception as e:
        out[i] = ("error", repr(e))
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])
fails = 0
# each distinct request alone (8: 4 prompts, chat and completion)
alone = {}
for i in range(8):
    o = {}; one(i, o); alone[i] = o[i]
    if not (alone[i][2] is True and alone[i][1] in ("stop", "length")):
        print("FAIL alone", i, alone[i]); fails += 1
print("alone:", json.dumps({i: alone[i][0] for i in range(8)}))
rss_after = []
for rnd in range(3):
    out = {}
    t0 = time.time()
    th = [threading.Thread(target=one, args=(i, out)) for i in range(64)]
    for t in th: t.start()
    for t in th: t.join()
    bad = [(i, out.get(i), alone[i % 8]) for i in range(64) if out.get(i) != alone[i % 8]]
    time.sleep(0.5)
    rss_after.append(rss())
    print(f"round {rnd + 1}: 64 streams in {time.time() - t0:.1f} s, {64 - len(bad)} complete and equal to alone, VmRSS {rss_after[-1]} kB")
    for b in bad[:5]: print("FAIL  ", b)
    fails += len(bad)
grow = rss_after[2] - rss_after[0]
if grow <= 12288: print(f"ok   memory flat: round 3 - round 1 = {grow} kB (bound 12288)")
else: print(f"FAIL memory grows: {rss_after} kB"); fails += 1
sys.exit(1 if fails else 0)
PY
rc=$?
[ $rc -eq 0 ] && ok "64 concurrent streams x 3 rounds: complete, correct, memory flat" || bad "load"
h=$(curl -s $base/health); echo "health: $h"
serve_stop "$spid" 5
[ "$stopped" = stopped ] && ok "SIGTERM: stopped" || bad "SIGTERM: still running"
[ $fails -eq 0 ] || { tail -n 10 "$tmp/s.log"; echo "$fails failed"; exit 1; }
echo "all passed"
