#!/bin/sh
# Writes the training corpus: the King James Bible from Debian's
# bible-kjv-text (printed by the `bible` program of bible-kjv), one verse per
# line, without book/chapter/verse references (so samples read as plain
# verses), ASCII, 31102 lines.
#
#   scripts/train/prepare_corpus.sh [OUT_DIR]     (default build/train)
#
# OUT_DIR/kjv.txt        every verse
# OUT_DIR/kjv_train.txt  the training split: every verse but each 50th
# OUT_DIR/kjv_valid.txt  the validation split: verses 50, 100, 150, ... (622)
# The split is by position in the canonical order, so it is the same on every
# machine. Installs bible-kjv with apt-get when it is missing and we are root.
set -eu
out="${1:-build/train}"
if ! command -v bible >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q bible-kjv >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bible-kjv >/dev/null; }
  fi
  command -v bible >/dev/null 2>&1 || { echo "prepare_corpus: needs the 'bible' program (apt-get install bible-kjv)" >&2; exit 1; }
fi
mkdir -p "$out"
tmp="$out/kjv.txt.tmp"
# -f turns pretty-printing off: one "Ref Text" line per verse. The whole
# canon is one range; strip the reference and any trailing blanks.
bible -f 'Gen1:1-Rev22:21' | sed -e 's/^[^ ]* //' -e 's/[[:space:]]*$//' | grep -v '^$' >"$tmp"
n=$(wc -l <"$tmp")
if [ "$n" -ne 31102 ]; then
  echo "prepare_corpus: expected 31102 verses, got $n" >&2
  exit 1
fi
if LC_ALL=C grep -q '[^ -~]' "$tmp"; then
  echo "prepare_corpus: unexpected non-ASCII or control characters" >&2
  exit 1
fi
mv "$tmp" "$out/kjv.txt"
awk 'NR % 50 != 0' "$out/kjv.txt" >"$out/kjv_train.txt"
awk 'NR % 50 == 0' "$out/kjv.txt" >"$out/kjv_valid.txt"
echo "prepare_corpus: $out/kjv.txt $(wc -c <"$out/kjv.txt") bytes, $n verses;" \
     "train $(wc -l <"$out/kjv_train.txt") verses, valid $(wc -l <"$out/kjv_valid.txt") verses"
