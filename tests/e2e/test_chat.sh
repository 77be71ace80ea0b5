#!/usr/bin/env bash
# wgpt chat on a model without a chat template continues the text turn by
# turn on one KV cache: its first reply is what `wgpt run` generates for the
# same text, cut at the first newline; later turns keep going. Then what the
# QA report (../shared/design/qa-2026-11-29.md) found: replies glued
# together (W3), a full context ending the chat (E3), one bad line ending it
# (E4), Ctrl-C killing it (E5), an error on the reply's line (C10).
set -u
. tests/e2e/lib.sh
need_wgpt
W=${WGPT:-build/wgpt}
m=$(tiny_model chat_q8_0 --type q8_0 --seed 21) || exit 1
small=$(tiny_model qa_ctx64 --type q8_0 --seed 2 --ctx 64) || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

printf 'In the beginning\nAnd then\n' | $W chat -m "$m" -n 16 --temp 0 >"$tmp/reply" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && ok "chat exit 0" || bad "chat: exit $rc: $(cat "$tmp/err")"
first=$(head -n 1 "$tmp/reply")
$W run -m "$m" -p $'In the beginning\n' -n 16 --temp 0 >"$tmp/run" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && ok "run exit 0" || bad "run: exit $rc: $(cat "$tmp/err")"
expect=$(head -n 1 "$tmp/run")
echo "chat:  [$first]"; echo "run:   [$expect]"
[ -n "$expect" ] && [ "$first" = "$expect" ] && ok "first reply equals run's" || bad "first reply differs from run"
[ "$(wc -l <"$tmp/reply")" -ge 2 ] && ok "second reply" || bad "no second reply"

# W3: with the plain template every reply is its own line, the output ends in a newline,
# and the newline that ended each reply is not lost. The default model's replies are prose.
printf 'Blessed are the meek\nAmen\n' | $W chat --seed 5 -n 40 >"$tmp/w3" 2>"$tmp/err"; rc=$?
lines=$(wc -l <"$tmp/w3")
[ $rc -eq 0 ] && [ "$lines" -eq 2 ] && [ "$(tail -c 1 "$tmp/w3" | od -An -c | tr -d ' ')" = '\n' ] \
  && ok "W3 two replies on two lines, ending in a newline" || bad "W3 exit $rc, $lines lines: $(cat -A "$tmp/w3" | head -c 400)"

# E3: a conversation longer than the context goes on: every one of 30 messages gets a reply,
# the oldest exchanges are dropped, and stderr says so.
for i in $(seq 1 30); do echo "message number $i of the conversation"; done >"$tmp/in30"
$W chat -m "$small" -n 12 --temp 0 <"$tmp/in30" >"$tmp/e3" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/e3")" -eq 30 ] && grep -q "dropped the" "$tmp/err" \
  && ok "E3 30 messages, 30 replies in a 64-token context ($(grep -c dropped "$tmp/err") drops)" \
  || bad "E3 exit $rc, $(wc -l <"$tmp/e3") replies: $(head -c 300 "$tmp/err")"
# With a system prompt that stays: the first and a late reply still follow it.
$W chat -m "$small" -n 12 --temp 0 --system "be brief" <"$tmp/in30" >"$tmp/e3s" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/e3s")" -eq 30 ] && grep -q "system prompt stays" "$tmp/err" \
  && ok "E3 with --system: 30 replies, the system prompt kept" || bad "E3 --system: exit $rc, $(head -c 300 "$tmp/err")"
# A greedy reply that fills the context alone is cut, and the next message is still answered.
printf 'In the beginning\nAnd the LORD said\n' | $W chat -m "$small" -n 1000 --temp 0 >"$tmp/e3c" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/e3c")" -eq 2 ] \
  && ok "E3 a reply that fills the context is cut, the chat goes on: $(tr '\n' '|' <"$tmp/err")" \
  || bad "E3 long reply: exit $rc, $(wc -l <"$tmp/e3c") lines, $(head -c 300 "$tmp/err")"
# A message that cannot fit even alone is skipped with a reason.
{ echo hi; printf 'the %.0s' $(seq 100); echo; echo again; } | $W chat -m "$small" -n 8 --temp 0 >"$tmp/e3m" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/e3m")" -eq 2 ] && grep -q "message skipped" "$tmp/err" \
  && ok "E3 an oversized message is skipped" || bad "E3 oversized: exit $rc, $(head -c 300 "$tmp/err")"

# E4: a line of invalid UTF-8 is reported and skipped; the next one is answered.
printf 'Blessed are the meek\n\xff\xfe bad\nAmen\n' | $W chat -m "$m" -n 8 --temp 0 >"$tmp/e4" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/e4")" -eq 2 ] && grep -q "line 2 skipped: .*UTF-8" "$tmp/err" \
  && ok "E4 bad line skipped: $(cat "$tmp/err")" || bad "E4 exit $rc, $(wc -l <"$tmp/e4") replies: $(cat "$tmp/err")"

# E5 and C10: on a terminal, Ctrl-C stops the reply and the chat answers the next message;
# Ctrl-C at the prompt ends it. Messages never share a line with a reply.
/usr/bin/python3 - "$W" >"$tmp/e5" 2>&1 <<'PY'
import os, pty, select, sys, time
w = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    # llama2's stop text is </s>: the default model's Bible prose runs on past its newlines.
    os.execv(w, [w, 'chat', '-n', '400', '--seed', '3', '--template', 'llama2'])
buf = b''
def read_for(secs, until=None, since=0):
    global buf
    end = time.time() + secs
    if until and until in buf[since:]: return True
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try: chunk = os.read(fd, 4096)
            except OSError: return False
            if not chunk: return False
            buf += chunk
            if until and until in buf[since:]: return True
    return until is None
assert read_for(60, b'> '), 'no prompt: %r' % buf
os.write(fd, b'And it came to pass\n')
start = len(buf)
assert read_for(60, b'the', start), 'no reply: %r' % buf[-300:]
os.write(fd, b'\x03')                     # Ctrl-C mid-reply
t0 = time.time()
assert read_for(30, b'reply stopped', start), 'reply not stopped: %r' % buf[-300:]
print('stopped after %.1f s' % (time.time() - t0))
assert read_for(10, b'> ', start), 'no prompt after Ctrl-C: %r' % buf[-300:]
assert os.waitpid(pid, os.WNOHANG) == (0, 0), 'chat died'
os.write(fd, b'Amen\n')                   # the conversation goes on: a second reply, stopped too
mark = len(buf)
assert read_for(60, b'the', mark), 'second message not answered: %r' % buf[-300:]
os.write(fd, b'\x03')
assert read_for(30, b'reply stopped', mark) and read_for(10, b'> ', mark), 'second reply not stopped'
os.write(fd, b'\x03')                     # Ctrl-C at the prompt ends the chat
_, status = os.waitpid(pid, 0)
print('exit', os.waitstatus_to_exitcode(status))
assert os.waitstatus_to_exitcode(status) == 130, status
# C10: "wgpt: chat: reply stopped" starts its own line.
assert b'\nwgpt: chat: reply stopped' in buf.replace(b'\r', b''), buf[-400:]
print('ok')
PY
rc=$?
[ $rc -eq 0 ] && ok "E5/C10 Ctrl-C stops the reply, the chat goes on, Ctrl-C at the prompt exits: $(tr '\n' ' ' <"$tmp/e5")" \
  || bad "E5 $(tail -c 600 "$tmp/e5")"

echo "$fails failed"
[ $fails -eq 0 ]
