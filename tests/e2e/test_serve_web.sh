#!/usr/bin/env bash
# wgpt serve-web on loopback: full GETs, single ranges (first bytes, middle,
# suffix, open-ended), 416 when unsatisfiable, malformed ranges ignored (200),
# HEAD, MIME types, /default.gguf mapped to --model, path traversal and
# symbolic links out of the root refused, one log line per request.
# Then the QA findings of 2026-11-29 (each check names its id): an escaped
# log (S2), FIFOs and stuck requests (S3), slowloris (S7), --root / (W8),
# --host localhost and --model DIR/FIFO (E10), libmicrohttpd's messages
# (E11), Range overflow (C8), 403 and the folder redirect (C9), dotfiles.
# WGPT=build-san/wgpt runs it against the ASan/UBSan build.
set -u
. tests/e2e/lib.sh
WGPT=${WGPT:-build/wgpt}
[ -x "$WGPT" ] || { echo "$WGPT missing (run make)"; exit 1; }
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
[ -x "$PY" ] || { echo "$PY not installed"; exit 77; }
ldconfig -p 2>/dev/null | grep -q libmicrohttpd.so.12 || { echo "libmicrohttpd12 not installed"; exit 77; }

tmp=$(mktemp -d)
pid=
pids=()  # every server started, for cleanup
# kill_tree PID: the server started under `timeout`, and timeout itself
kill_tree() { kill -KILL $(pgrep -P "$1") "$1" 2>/dev/null; }
cleanup() {
  for p in "${pids[@]}"; do kill_tree "$p"; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
check() { # description, expected, actual
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected [$2], got [$3]"; fails=$((fails+1)); fi
}
fail() { echo "FAIL $1"; fails=$((fails+1)); }
# start LOG ARGS...: a server on a free port (lib.sh's serve_web, through
# "${SERVE_WRAP[@]}"); sets spid and sport ("" if it did not start)
SERVE_WRAP=()
start() {
  local log=$1; shift
  serve_web "$log" 120 "$@"
  spid=$server_pid; sport=$server_port; pids+=("$spid")
}
# stop_within PID SECONDS [SIGNAL]: signals the server; sets stopped to
# "stopped" or "running" (then killed), and stop_rc to its exit status
stop_within() {
  kill -"${3:-TERM}" "$1" 2>/dev/null
  local i
  for i in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then stopped=running; kill_tree "$1"; else stopped=stopped; fi
  wait "$1" 2>/dev/null; stop_rc=$?
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
mkfifo "$root/pipe" "$tmp/model.fifo"
printf 'dot\n' >"$root/.hidden"
mkdir -p "$root/.git" && printf '[core]\n' >"$root/.git/config"
ln -s .hidden "$root/shown.txt"            # a plain name for a dotfile
mkdir -p "$tmp/rootx" && printf 'sibling\n' >"$tmp/rootx/s.txt"
ln -s ../rootx/s.txt "$root/sibling.txt"   # "$tmp/root" is a prefix of "$tmp/rootx"
printf 'locked\n' >"$root/locked.txt"; chmod 000 "$root/locked.txt"

# As root, permissions do not stop reading; without the capabilities that
# bypass them, they do (C9's 403 needs a file the server cannot read).
asuser=()
if [ "$(id -u)" = 0 ]; then
  if setpriv --bounding-set -dac_override,-dac_read_search true 2>/dev/null &&
     ! setpriv --bounding-set -dac_override,-dac_read_search cat "$root/locked.txt" >/dev/null 2>&1; then
    asuser=(setpriv --bounding-set -dac_override,-dac_read_search)
  else
    echo "note: running as root without setpriv: the unreadable-file check cannot apply"
  fi
fi

log=$tmp/server.log
SERVE_WRAP=("${asuser[@]}")
start "$log" --root "$root" --model "$tmp/weights.gguf"
SERVE_WRAP=()
pid=$spid port=$sport
[ -n "$port" ] || { echo "server did not start:"; cat "$log"; exit 1; }
base=http://127.0.0.1:$port
echo "server on $base"

# S7: a connection that never completes its request header is dropped after
# the idle timeout (10 s; it was 60). Started now, read at the end.
$PY - "$port" >"$tmp/idle.out" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
s.settimeout(25)
try:
    got = s.recv(100)
    print("closed" if not got else "answered", round(time.time() - t0))
except socket.timeout:
    print("open", round(time.time() - t0))
PYEOF
idle_pid=$!

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
# C9: a folder without its slash is redirected, so that its page's relative
# links resolve inside it (it used to be served in place)
curl -s --max-time 10 -o /dev/null -D "$tmp/hdr" "$base/sub"
check "C9: folder without slash: status" 301 "$(status)"
check "C9: folder without slash: Location" /sub/ "$(hdr Location)"
curl -s --max-time 10 -o /dev/null -D "$tmp/hdr" --path-as-is "$base//sub"
check "C9: //sub redirects to /sub/, not to host 'sub'" /sub/ "$(hdr Location)"
# C9: an unreadable file is 403 (it was 404)
if [ "$(id -u)" != 0 ] || [ ${#asuser[@]} -gt 0 ]; then
  check "C9: unreadable file" 403 "$(code "$base/locked.txt")"
fi
# W8: the root-prefix check: a sibling folder whose name starts with the root's
check "W8: symlink to a sibling folder sharing the root's prefix" 403 "$(code "$base/sibling.txt")"
# Dotfiles: not served, under any name
check "dotfile" 404 "$(code "$base/.hidden")"
check "dot-folder" 404 "$(code "$base/.git/config")"
check "symlink to a dotfile" 404 "$(code "$base/shown.txt")"

# C8: a last-byte-pos of 2^64-1 is still a range (it was ignored: 200), and a
# first-byte-pos near 2^64 is past the end (it was ignored: 200)
"${C[@]}" -H "Range: bytes=0-18446744073709551615" "$base/data.bin"
check "C8: bytes=0-18446744073709551615: status" 206 "$(status)"
check "C8: bytes=0-18446744073709551615: Content-Range" "bytes 0-999/1000" "$(hdr Content-Range)"
check "C8: bytes=0-18446744073709551615: body" "$(md5sum <"$root/data.bin")" "$(md5sum <"$tmp/body")"
"${C[@]}" -H "Range: bytes=18446744073709551614-" "$base/data.bin"
check "C8: bytes=18446744073709551614-: status" 416 "$(status)"
"${C[@]}" -H "Range: bytes=99999999999999999999999-" "$base/data.bin"
check "C8: bytes=99999999999999999999999-: status" 416 "$(status)"

# S2: escapes and line breaks in the URL, the Range header and the method
# reach the log escaped, never raw, and cannot start a forged line
code --path-as-is "$base/%1b%5d0%3bPWNED%07%1b%5b2J%0aserve-web:%20127.0.0.1%20GET%20/forged%20range=-%20status=200%20bytes=1" >/dev/null
code -H $'Range: \x1b[31mred\x1b[0m' "$base/data.bin" >/dev/null
code -X $'GE\x1bT' "$base/data.bin" >/dev/null
code --path-as-is "$base/%e2%80%aeevil%c2%9b" >/dev/null
sleep 0.2
check "S2: no ESC byte in the log" 0 "$(grep -c $'\x1b' "$log")"
check "S2: no C1 CSI or bidi override in the log" 0 "$(grep -c $'\xc2\x9b\|\xe2\x80\xae' "$log")"
check "S2: no forged log line" 0 "$(grep -c '^serve-web: 127.0.0.1 GET /forged' "$log")"
grep -qF 'GET /\x1b]0;PWNED\x07\x1b[2J\nserve-web:' "$log" || fail "S2: the URL is logged in escaped form"
grep -qF 'range=\x1b[31mred\x1b[0m' "$log" || fail "S2: the Range header is logged in escaped form"

# The request log: one line per request, with method, path, range, status, bytes
grep -q 'GET /data.bin range=bytes=100-355 status=206 bytes=256' "$log" || { echo "FAIL log line for a range"; fails=$((fails+1)); }
grep -q 'HEAD /data.bin range=- status=200 bytes=0' "$log" || { echo "FAIL log line for HEAD"; fails=$((fails+1)); }
echo "$(grep -c '^serve-web: 127.0.0.1 ' "$log") requests logged"

# E11: a 431 (libmicrohttpd logs it with its HTML page); checked below
check "E11: 431 for a 100 KB header" 431 "$(code -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" "$base/")"

# S7: slowloris. 1,200 connections from 127.0.0.1, each with half a request
# header, held while a new request is made: it must be answered within curl's
# timeout. (More than 1,000: libmicrohttpd's default limit, about 1,020,
# was what ran out, and 1,000 alone would have fit under it.)
$PY - "$port" 1200 >"$tmp/flood.out" 2>&1 <<'PYEOF'
import resource, socket, subprocess, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft != resource.RLIM_INFINITY and soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64 if hard == resource.RLIM_INFINITY else min(hard, n + 64), hard))
socks, t0 = [], time.time()
try:
    for i in range(n):
        if time.time() - t0 > 15:
            break
        s = socket.socket()
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
except OSError as e:
    print("connect failed after", len(socks), e)
r = subprocess.run(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                    "http://127.0.0.1:%d/index.html" % port], capture_output=True, text=True)
print("held", len(socks), "probe", r.stdout)
for s in socks:
    s.close()
PYEOF
cat "$tmp/flood.out"
check "S7: 1200 half-open connections held, then a new request is answered" "held 1200 probe 200" "$(tail -n1 "$tmp/flood.out")"
wait "$idle_pid"
read -r idle_how idle_s <"$tmp/idle.out"
if [ "$idle_how" = closed ] && [ "$idle_s" -le 15 ]; then echo "ok   S7: a half-sent request is dropped after ${idle_s}s"
else fail "S7: a half-sent request should be dropped within 15 s: $(cat "$tmp/idle.out")"; fi

# E11: libmicrohttpd's messages (the 431 with an HTML page, and 1,200
# "closed with incomplete request" from the flood) are prefixed, one line
# each, without HTML, and rate-limited rather than one per dropped connection
sleep 0.5
check "E11: every log line is serve-web's" "" "$(grep -v '^serve-web: ' "$log" | head -n3)"
check "E11: no HTML in the log" 0 "$(grep -c '<' "$log")"
grep -q '^serve-web: .*431' "$log" || fail "E11: the 431 message is logged, prefixed"
n_closed=$(grep -c 'closed by remote side' "$log")
if [ "$n_closed" -le 10 ]; then echo "ok   E11: $n_closed of 1200 dropped-connection messages shown"
else fail "E11: $n_closed dropped-connection messages (expected at most 10)"; fi

# S3: a FIFO under the root is refused at once (open() used to block on it,
# and four such requests froze all of the server's threads)
for n in 1 2 3 4 5 6; do
  c=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$base/pipe")
  check "S3: FIFO request $n answered at once" 403 "$c"
done
check "S3: the server still answers after the FIFO requests" 200 "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$base/index.html")"

# S3: SIGTERM stops the server within a few seconds, after all of the above
stop_within "$pid" 5
check "S3: SIGTERM after FIFO requests stops the server" stopped "$stopped"
check "S3: SIGTERM after FIFO requests: exit status" 0 "$stop_rc"
pid=
# S3: a request stuck in the server (here: stderr is a pipe nobody reads, so
# logging blocks) no longer stops SIGTERM from ending the process
mkfifo "$tmp/err.fifo"
timeout 120 "$WGPT" serve-web --port 0 --root "$root" 2>"$tmp/err.fifo" &
spid=$!; pids+=("$spid")
exec 7<"$tmp/err.fifo"
read -r -t 10 -u 7 line
sport=$(echo "$line" | sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p')
if [ -n "$sport" ]; then
  long=$(head -c 3000 /dev/zero | tr '\0' a)
  for i in $(seq 600); do printf 'url = "http://127.0.0.1:%s/%s%s"\noutput = /dev/null\n' "$sport" "$long" "$i"; done >"$tmp/fill.cfg"
  timeout 4 curl -s -m 3 -K "$tmp/fill.cfg"   # fills the pipe, then hangs in a request
  check "S3: a request is stuck on the full stderr pipe (curl timed out)" 124 "$?"
  stop_within "$spid" 6
  check "S3: SIGTERM with requests stuck stops the server" stopped "$stopped"
  echo "     (exit status $stop_rc: 1 from the stop watchdog, 142 if its message could not be written)"
else
  fail "S3: the stderr-pipe server did not start ($line)"
fi
exec 7<&-

# S3: --model must be a regular file (a FIFO made every /default.gguf hang)
# E10: a folder (it was accepted, then answered 404)
for m in "$tmp/model.fifo" "$tmp"; do
  timeout 5 "$WGPT" serve-web --port 0 --root "$root" --model "$m" 2>"$tmp/err"; rc=$?
  what=$([ -d "$m" ] && echo "E10: --model DIR" || echo "S3: --model FIFO")
  check "$what refused at startup: exit" 1 "$rc"
  check "$what refused at startup: one line" 1 "$(wc -l <"$tmp/err")"
  grep -q 'not a regular file' "$tmp/err" || fail "$what: says why: $(cat "$tmp/err")"
done

# W8: --root / is refused at startup with one line (it served 403 for everything)
timeout 5 "$WGPT" serve-web --port 0 --root / 2>"$tmp/err"; rc=$?
check "W8: --root / refused: exit" 2 "$rc"
check "W8: --root / refused: one line" 1 "$(wc -l <"$tmp/err")"
grep -q 'refusing to serve /' "$tmp/err" || fail "W8: --root / says why: $(cat "$tmp/err")"

# E10: --host localhost means 127.0.0.1 (it was refused)
# E11: --quiet silences libmicrohttpd's messages too
start "$tmp/quiet.log" --host localhost --quiet --root "$root"
if [ -n "$sport" ]; then
  check "E10: --host localhost serves" 200 "$(code "http://127.0.0.1:$sport/index.html")"
  code -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" "http://127.0.0.1:$sport/" >/dev/null
  $PY -c 'import socket, sys
for _ in range(20):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(b"GET / HTTP/1.1\r\n"); s.close()' "$sport"
  sleep 0.3
  # S3: SIGINT stops it as SIGTERM does
  stop_within "$spid" 5 INT
  check "S3: SIGINT stops the server" stopped "$stopped"
  check "E11: --quiet: nothing but the start and stop lines" "" \
    "$(grep -v '^serve-web: serving \|^serve-web: stopping$\|^serve-web: at most ' "$tmp/quiet.log")"
else
  fail "E10: --host localhost did not start: $(cat "$tmp/quiet.log")"
fi
check "E10: --host by another name is refused" 2 "$(timeout 5 "$WGPT" serve-web --port 0 --host example.invalid --root "$root" 2>/dev/null; echo $?)"

[ $fails -eq 0 ] || { echo "$fails checks failed"; echo "--- server log"; tail -n 20 "$log"; exit 1; }
echo "all checks passed"
