#!/usr/bin/env bash
# wgpt serve-web on loopback: full GETs, single ranges (first bytes, middle,
# suffix, open-ended), 416 when unsatisfiable, malformed ranges ignored (200),
# HEAD, MIME types, /default.gguf mapped to --model, path traversal and
# symbolic links out of the root refused, one log line per request.
set -u
. tests/e2e/lib.sh
need_wgpt
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
ldconfig -p 2>/dev/null | grep -q libmicrohttpd.so.12 || { echo "libmicrohttpd12 not installed"; exit 77; }

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fails=0
check() { # description, expected, actual
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected [$2], got [$3]"; fails=$((fails+1)); fi
}

root=$tmp/root; mkdir -p "$root/sub"
head -c 1000 /dev/urandom >"$root/data.bin"
cp "$root/data.bin" "$root/model.gguf"
printf '<!doctype html><title>t</title>\n' >"$root/index.html"
printf 'export const x = 1;\n' >"$root/app.js"
printf '\0asm\1\0\0\0' >"$root/m.wasm"
printf 'body{}\n' >"$root/s.css"
printf '{"a":1}\n' >"$root/d.json"
printf 'inside\n' >"$root/sub/f.txt"
printf 'secret\n' >"$tmp/secret.txt"
ln -s ../secret.txt "$root/escape.txt"     # points out of the root
ln -s data.bin "$root/alias.bin"           # stays inside
head -c 777 /dev/urandom >"$tmp/weights.gguf"

log=$tmp/server.log
timeout 60 build/wgpt serve-web --port 0 --root "$root" --model "$tmp/weights.gguf" 2>"$log" &
pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log" | head -n1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { echo "server did not start:"; cat "$log"; exit 1; }
base=http://127.0.0.1:$port
echo "server on $base"

C=(curl -s --max-time 10 -o "$tmp/body" -D "$tmp/hdr")
hdr() { tr -d '\r' <"$tmp/hdr" | sed -n "s/^$1: //Ip" | tail -n1; }
status() { tr -d '\r' <"$tmp/hdr" | sed -n 's/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' | tail -n1; }

# Full GET
"${C[@]}" "$base/data.bin"
check "GET full: status" 200 "$(status)"
check "GET full: body" "$(md5sum <"$root/data.bin")" "$(md5sum <"$tmp/body")"
check "GET full: Accept-Ranges" bytes "$(hdr Accept-Ranges)"
check "GET full: Content-Length" 1000 "$(hdr Content-Length)"

# Ranges: first bytes, middle, suffix, open-ended, past the end (clamped)
range() { # header, first, length (expected)
  "${C[@]}" -H "Range: $1" "$base/data.bin"
  check "$1: status" 206 "$(status)"
  check "$1: Content-Range" "bytes $2-$(($2+$3-1))/1000" "$(hdr Content-Range)"
  check "$1: Content-Length" "$3" "$(hdr Content-Length)"
  check "$1: body" "$(tail -c +$(($2+1)) "$root/data.bin" | head -c "$3" | md5sum)" "$(md5sum <"$tmp/body")"
}
range "bytes=0-15" 0 16
range "bytes=100-355" 100 256
range "bytes=-10" 990 10
range "bytes=100-" 100 900
range "bytes=990-5000" 990 10
range "bytes=-5000" 0 1000
range "bytes=999-999" 999 1

# Unsatisfiable: 416 with Content-Range: bytes */size
for r in "bytes=1000-" "bytes=5000-6000" "bytes=-0"; do
  "${C[@]}" -H "Range: $r" "$base/data.bin"
  check "$r: status" 416 "$(status)"
  check "$r: Content-Range" "bytes */1000" "$(hdr Content-Range)"
done
# Malformed or several ranges: ignored (RFC 9110 lets a server ignore Range), whole file
for r in "bytes=abc" "bytes=5-2" "items=0-10" "bytes=0-1,5-6" "bytes=-" "bytes=1-2x"; do
  "${C[@]}" -H "Range: $r" "$base/data.bin"
  check "$r: status" 200 "$(status)"
  check "$r: length" 1000 "$(stat -c %s "$tmp/body")"
done

# HEAD: headers (length included), no body
curl -s --max-time 10 -I -o "$tmp/hdr" "$base/data.bin"
check "HEAD: status" 200 "$(status)"
check "HEAD: Content-Length" 1000 "$(hdr Content-Length)"
curl -s --max-time 10 -I -o "$tmp/hdr" -H "Range: bytes=10-19" "$base/data.bin"
check "HEAD range: status" 206 "$(status)"
check "HEAD range: Content-Range" "bytes 10-19/1000" "$(hdr Content-Range)"
# Raw HEAD over a socket: everything after the blank line would be body.
raw=$(exec 3<>"/dev/tcp/127.0.0.1/$port"
      printf 'HEAD /data.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
      timeout 5 cat <&3 | tr -d '\r' | sed -n '/^$/,$p' | wc -c)
check "HEAD: no body" 1 "$raw"

# MIME types
mime() { "${C[@]}" "$base$1"; check "MIME $1" "$2" "$(hdr Content-Type)"; }
mime /index.html "text/html; charset=utf-8"
mime / "text/html; charset=utf-8"
mime /app.js "text/javascript; charset=utf-8"
mime /m.wasm application/wasm
mime /s.css "text/css; charset=utf-8"
mime /d.json application/json
mime /model.gguf application/octet-stream
mime /sub/f.txt "text/plain; charset=utf-8"

# /default.gguf is --model
"${C[@]}" -H "Range: bytes=0-99" "$base/default.gguf"
check "/default.gguf: status" 206 "$(status)"
check "/default.gguf: Content-Range" "bytes 0-99/777" "$(hdr Content-Range)"
check "/default.gguf: body" "$(head -c 100 "$tmp/weights.gguf" | md5sum)" "$(md5sum <"$tmp/body")"

# Not found, traversal, symbolic links out of the root, other methods
code() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@"; }
check "missing file" 404 "$(code "$base/nope.js")"
for p in "/../secret.txt" "/sub/../../secret.txt" "/%2e%2e/secret.txt" "/sub/%2E%2E/%2e%2e/secret.txt" "/..%2fsecret.txt" "/sub/..%2f..%2fsecret.txt"; do
  c=$(code --path-as-is "$base$p")
  if [ "$c" = 403 ] || [ "$c" = 404 ]; then echo "ok   traversal $p -> $c"; else echo "FAIL traversal $p -> $c"; fails=$((fails+1)); fi
done
c=$(code "$base/escape.txt"); check "symlink out of the root" 403 "$c"
check "symlink inside the root" 200 "$(code "$base/alias.bin")"
check "POST refused" 405 "$(code -X POST -d x "$base/data.bin")"
check "folder without index.html" 404 "$(code "$base/sub/")"
check "folder without slash" 404 "$(code "$base/sub")"

# The request log: one line per request, with method, path, range, status, bytes
grep -q 'GET /data.bin range=bytes=100-355 status=206 bytes=256' "$log" || { echo "FAIL log line for a range"; fails=$((fails+1)); }
grep -q 'HEAD /data.bin range=- status=200 bytes=0' "$log" || { echo "FAIL log line for HEAD"; fails=$((fails+1)); }
echo "$(grep -c '^serve-web: 127.0.0.1 ' "$log") requests logged"

kill "$pid"; wait "$pid" 2>/dev/null; pid=
grep -q 'serve-web: stopping' "$log" || { echo "FAIL server did not stop on SIGTERM"; fails=$((fails+1)); }
[ $fails -eq 0 ] || { echo "$fails checks failed"; echo "--- server log"; tail -n 20 "$log"; exit 1; }
echo "all checks passed"
