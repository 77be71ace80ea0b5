#!/usr/bin/env bash
# Runs on the GPU machine (scripts/device_env.sh): `wgpt serve` on the
# Llama-3.2-1B-shaped random Q4_0 file, with libmicrohttpd and its libraries
# unpacked from .gl2/*.deb into /tmp/mhd (not into /: they could break it).
# For P = 1, 4, 16 and 64 clients at once, each asks POST /v1/completions
# for 128 greedy tokens of a prompt of its own; the aggregate rate is every
# client's completion tokens over the wall time of the round (prompts
# included), through HTTP as a user's clients see it.
# usage: scripts/device_serve.sh
set -u
cd "$(dirname "$0")/.."
. scripts/device_env.sh
mkdir -p /tmp/mhd && for f in .gl2/*.deb; do dpkg -x "$f" /tmp/mhd; done
export LD_LIBRARY_PATH=/tmp/mhd/usr/lib/x86_64-linux-gnu
m=/tmp/llama1b_q4_0.gguf
[ -f "$m" ] || python3 scripts/make_llama1b.py --out "$m" --type q4_0 --threads 16 >/dev/null
$W serve -m "$m" --port 18080 --parallel 64 --queue 64 -c 256 --timeout 60 2>"$OUT/serve.log" &
spid=$!
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18080/health && break; sleep 0.3; done
python3 - <<'PY' | tee "$OUT/serve_rates.txt"
import http.client, json, threading, time
def ask(i, out):
    c = http.client.HTTPConnection("127.0.0.1", 18080, timeout=300)
    body = json.dumps({"prompt": f"Story number {i}: once upon a time", "max_tokens": 128, "temperature": 0})
    c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    r = json.loads(c.getresponse().read())
    out[i] = r["usage"]["completion_tokens"]
for P in [1, 4, 16, 64]:
    for rnd in range(2):  # the first round warms up
        out = [0] * P
        t0 = time.time()
        th = [threading.Thread(target=ask, args=(i, out)) for i in range(P)]
        for t in th: t.start()
        for t in th: t.join()
        dt = time.time() - t0
    print(json.dumps({"streams": P, "completion_tokens": sum(out), "seconds": round(dt, 3),
                      "aggregate_tok_s": round(sum(out) / dt, 1), "per_stream_tok_s": round(sum(out) / dt / P, 1)}))
PY
kill $spid; wait $spid 2>/dev/null
tail -n 3 "$OUT/serve.log"
