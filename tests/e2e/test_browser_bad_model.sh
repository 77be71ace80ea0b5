#!/usr/bin/env bash
# S4 in the browser: a ?model= URL that is not a GGUF fails after the first
# read with the loader's reason. The QA report's page treated every header
# error as "truncated" and read 1, 4, 16, 64 MiB... of the file (caching
# each) before saying anything; here the URL is a 2 GiB file starting with
# "NOPE", and the server's log must show one request for it of at most
# 1 MiB. Skips (77) like test_browser.sh without the browser build,
# Chromium, Node or playwright-core (which test_browser.sh installs).
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
need_wgpt
need_browser
pw=$(pwd)/build/webtest/node_modules/playwright-core
[ -f "$pw/package.json" ] || { echo "playwright-core not installed (tests/e2e/test_browser.sh installs it)"; exit 77; }
[ -f scripts/env.sh ] && . scripts/env.sh

web_root
printf 'NOPE' >"$root/big.bin"
truncate -s 2G "$root/big.bin"   # sparse: 2 GiB to the server, nothing on disk

log=$tmp/server.log
serve_web "$log" 300 --root "$root"
pid=$server_pid port=$server_port
[ -n "$port" ] || { echo "serve-web did not start:"; cat "$log"; exit 1; }

cat >"$tmp/drive.mjs" <<'EOF'
import { createRequire } from 'node:module';
const [pwDir, chromiumPath, url] = process.argv.slice(2);
const { chromium } = createRequire(import.meta.url)(pwDir);
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true,
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking'] });
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.title === 'done' || document.title.startsWith('error:'), null, { timeout: 120000 });
  console.log(await page.title());
} finally {
  await browser.close();
}
EOF
title=$(timeout 180 node "$tmp/drive.mjs" "$pw" "$CHROMIUM" "http://127.0.0.1:$port/?model=/big.bin&prompt=hi&n=1&autorun=1")
rc=$?
requests=$(grep -c 'GET /big.bin' "$log")
bytes=$(grep 'GET /big.bin' "$log" | sed -n 's/.*bytes=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')
echo "page: $title"
echo "server: $requests request(s) for /big.bin, $bytes bytes"
fail=0
[ $rc -eq 0 ] || { echo "FAIL: the page did not finish (node exit $rc)"; fail=1; }
[[ $title == *"not a GGUF file (magic 'NOPE'"* ]] || { echo "FAIL: the page's error is not the loader's"; fail=1; }
[ "$requests" -eq 1 ] && [ "$bytes" -le $((1 << 20)) ] || { echo "FAIL: more than one read of at most 1 MiB"; fail=1; }
[ $fail -eq 0 ] || { echo "--- server log"; tail -n 20 "$log"; }
exit $fail
