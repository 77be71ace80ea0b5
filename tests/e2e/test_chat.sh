#!/usr/bin/env bash
# wgpt chat on a model without a chat template continues the text turn by
# turn on one KV cache: its first reply is what `wgpt run` generates for the
# same text, cut at the first newline; later turns keep going.
set -u
. tests/e2e/lib.sh
need_wgpt
m=$(tiny_model chat_q8_0 --type q8_0 --seed 21)
reply=$(printf 'In the beginning\nAnd then\n' | build/wgpt chat -m "$m" -n 16 --temp 0 2>/dev/null | tr -d '\000')
[ $? -eq 0 ] || { echo "chat failed"; exit 1; }
first=$(printf '%s\n' "$reply" | head -n 1)
expect=$(build/wgpt run -m "$m" -p $'In the beginning\n' -n 16 --temp 0 2>/dev/null | tr -d '\000' | head -n 1)
echo "chat:  [$first]"; echo "run:   [$expect]"
[ -n "$expect" ] && [ "$first" = "$expect" ] || { echo "first reply differs from run"; exit 1; }
[ "$(printf '%s\n' "$reply" | wc -l)" -ge 2 ] || { echo "no second reply"; exit 1; }
