# Shared by the llama.cpp oracle tests (test_llamacpp_oracle.sh,
# test_qwen_llamacpp.sh): one model checked against llama.cpp (CPU, via
# node-llama-cpp), a float64 numpy forward pass, and wgpt.
# Sourced from the repository root.
PY=/usr/bin/python3
WGPT=${WGPT:-build/wgpt}
DIR=build/testmodels
ORACLE=tests/oracle
N=32
# TOL_MAX / TOL_RMS: a family's own logit tolerances (compare_logits.py
# --tol-max/--tol-rms) where llama.cpp's own rounding needs more room than
# the weight type's default; empty: compare_logits.py's table.
TOL_MAX=${TOL_MAX:-} TOL_RMS=${TOL_RMS:-}
tol_args() { echo ${TOL_MAX:+--tol-max $TOL_MAX} ${TOL_RMS:+--tol-rms $TOL_RMS}; }
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# oracle_setup [FILE...]: exits 77 (skip) without node, node-llama-cpp or
# any FILE; makes $tmp, removed on exit.
oracle_setup() {
  local f ok=1
  command -v node >/dev/null && [ -d deps/node_modules/node-llama-cpp ] || ok=
  for f in "$@"; do [ -f "$f" ] || ok=; done
  [ -n "$ok" ] || { echo "node or deps/node_modules/node-llama-cpp missing (run make deps)"; exit 77; }
  tmp=$(mktemp -d) || exit 1
  trap 'rm -rf "$tmp"' EXIT
}

# oracle_check_model TAG MODEL TYPE VOCAB NUMPY PROMPT TEXT: llama.cpp's
# greedy continuation of PROMPT ($N ids) is not degenerate and equals the
# numpy forward NUMPY's; its logits on TEXT are within compare_logits.py's
# tolerance of that forward; the greedy path is decisive for that tolerance.
# Sets prompt_ids, lc_ids, min_gap, ids (TEXT's token ids), ids_json, and
# lowers min_gap_all; $tmp/lc.bin holds llama.cpp's logits. Returns 1 where
# the model's remaining checks cannot run.
oracle_check_model() {
  local tag=$1 model=$2 type=$3 vocab=$4 numpy=$5 prompt=$6 text=$7
  local n_ids n_distinct np_ids
  # --- oracle: greedy ---
  if ! node $ORACLE/llamacpp.mjs greedy "$model" "$prompt" $N --json >"$tmp/g.json" 2>"$tmp/err"; then
    cat "$tmp/err"; fail "$tag: llama.cpp greedy"; return 1
  fi
  read -r prompt_ids lc_ids min_gap < <($PY - "$tmp/g.json" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1]))
print(json.dumps(g["prompt_ids"]).replace(" ", ""), ",".join(map(str, g["ids"])) or "-",
      min(g["gaps"]) if g["gaps"] else 0)
EOF
  )
  lc_ids=${lc_ids//,/ }
  echo "prompt ids: $prompt_ids"
  echo "llama.cpp:  $lc_ids (smallest top-1/top-2 gap $min_gap)"
  n_ids=$(wc -w <<<"$lc_ids"); n_distinct=$(tr ' ' '\n' <<<"$lc_ids" | sort -u | wc -l)
  [ "$n_ids" -eq $N ] || fail "$tag: llama.cpp stopped after $n_ids tokens (end of generation)"
  [ "$n_distinct" -ge 8 ] || fail "$tag: degenerate greedy sequence ($n_distinct distinct ids)"
  np_ids=$($PY "$numpy" greedy "$model" "$prompt_ids" $N)
  [ "$np_ids" = "$lc_ids" ] || fail "$tag: exact numpy forward disagrees with llama.cpp: $np_ids"
  min_gap_all=$($PY -c "print(min(float(x) for x in '$min_gap ${min_gap_all:-inf}'.split()))")

  # --- oracle: logits ---
  ids=$(node $ORACLE/llamacpp.mjs tokenize "$model" "$text") || { fail "$tag: tokenize"; return 1; }
  ids_json="[${ids// /,}]"
  node $ORACLE/llamacpp.mjs logits "$model" "$ids_json" "$tmp/lc.bin" || { fail "$tag: llama.cpp logits"; return 1; }
  $PY "$numpy" logits "$model" "$ids_json" "$tmp/np.bin" || { fail "$tag: numpy logits"; return 1; }
  $PY $ORACLE/compare_logits.py "$tmp/lc.bin" "$tmp/np.bin" --vocab "$vocab" --type "$type" $(tol_args) \
    --label "exact forward vs llama.cpp" || fail "$tag: llama.cpp outside the tolerance of the exact forward"
  # Greedy ids are only a fair test if the logit tolerance cannot flip them.
  $PY - "$tmp/lc.bin" "$type" "$min_gap" "$TOL_MAX" <<'EOF' || fail "$tag: greedy path not decisive for this tolerance"
import sys
import numpy as np
sys.path.insert(0, "tests/oracle")
from compare_logits import TOLERANCES
scale = np.abs(np.fromfile(sys.argv[1], "<f4")).max()
need = 2 * float(sys.argv[4] or TOLERANCES[sys.argv[2]][0]) * scale
print(f"greedy margin: smallest gap {float(sys.argv[3]):.3g}, needed {need:.3g}")
sys.exit(0 if float(sys.argv[3]) > need else 1)
EOF
}

# wgpt_check_model TAG MODEL TYPE VOCAB PROMPT: after oracle_check_model,
# `wgpt run --temp 0 -n $N --print-ids` prints llama.cpp's ids ($lc_ids) and
# `wgpt logits --ids $ids` is within compare_logits.py's tolerance of
# llama.cpp's logits ($tmp/lc.bin).
wgpt_check_model() {
  local tag=$1 model=$2 type=$3 vocab=$4 prompt=$5
  local w_ids
  if w_ids=$("$WGPT" run -m "$model" -p "$prompt" -n $N --temp 0 --print-ids 2>"$tmp/err"); then
    w_ids=$(echo $w_ids)  # normalise whitespace
    echo "wgpt:       $w_ids"
    [ "$w_ids" = "$lc_ids" ] || fail "$tag: wgpt run ids differ from llama.cpp"
  else
    tail -n 5 "$tmp/err"; fail "$tag: wgpt run failed"
  fi
  wgpt_check_logits "$tag" "$model" "$vocab" "$type" "$ids"
}

# wgpt_check_logits LABEL MODEL VOCAB TYPE IDS: `wgpt logits --ids IDS` is
# within compare_logits.py's tolerance of llama.cpp's ($tmp/lc.bin), which
# for q8_0/q4_0 allows for both engines' 8-bit activations by llama.cpp's own
# distance from the exact forward ($tmp/np.bin, of the same IDS).
wgpt_check_logits() {
  local label=$1 model=$2 vocab=$3 type=$4 ids=$5
  if "$WGPT" logits -m "$model" --ids "$ids" -o "$tmp/w.bin" 2>"$tmp/err" >/dev/null; then
    $PY $ORACLE/compare_logits.py "$tmp/lc.bin" "$tmp/w.bin" --vocab "$vocab" --type "$type" $(tol_args) \
      --exact "$tmp/np.bin" --label "wgpt logits vs llama.cpp" || fail "$label: wgpt logits"
  else
    tail -n 5 "$tmp/err"; fail "$label: wgpt logits failed"
  fi
}
