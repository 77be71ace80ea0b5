# The llama.cpp oracle loop of test_gpt2_llamacpp.sh and
# test_gemma3_llamacpp.sh (sourced after oracle_lib.sh, from the repository
# root): for each "type|seed|flags|prompt" spec, a tiny random model of the
# family written by scripts/make_tiny_gpt2_gemma3.py (llama.cpp's own gguf-py,
# in convert_hf_to_gguf.py's form), checked by oracle_check_model (llama.cpp's
# greedy ids equal the float64 numpy forward's, its logits within tolerance
# of that forward, the greedy path decisive for the tolerance), the numpy
# forward's deliberate mistakes caught by the tolerance, and wgpt: tokenize
# (with --special: BOS where the model adds one) equal to llama.cpp's, 32
# greedy ids equal, logits within tolerance, `wgpt verify` green.
# TOL_MAX_<type> / TOL_RMS_<type>, where set, override the type's tolerance.
BUNDLE=deps/node_modules/node-llama-cpp/llama/gitRelease.bundle

# family_run ARCH VOCAB TEXT SPEC...
family_run() {
  local arch=$1 vocab=$2 text=$3 spec type seed flags prompt tag model w_tok v
  shift 3
  oracle_setup "$BUNDLE"
  mkdir -p "$DIR" || exit 1
  [ -x "$WGPT" ] || fail "$WGPT does not exist (make all)"
  for spec in "$@"; do
    IFS='|' read -r type seed flags _ <<<"$spec"
    prompt=${spec#*|*|*|}  # the prompt may contain a newline
    tag="${arch}_${type}_s${seed}$(echo "$flags" | tr -d ' -')"
    model="$DIR/$tag.gguf"
    if [ ! -s "$model" ] || [ scripts/make_tiny_gpt2_gemma3.py -nt "$model" ] || [ scripts/make_tiny_qwen.py -nt "$model" ] \
       || [ scripts/make_tiny_llama.py -nt "$model" ] || [ scripts/llamacpp_src.py -nt "$model" ] \
       || [ scripts/tiny_corpus.py -nt "$model" ] || [ "$BUNDLE" -nt "$model" ]; then
      # shellcheck disable=SC2086
      $PY scripts/make_tiny_gpt2_gemma3.py --arch "$arch" --type "$type" --seed "$seed" --vocab "$vocab" $flags \
        --out "$model.tmp.$$" && mv "$model.tmp.$$" "$model" || { fail "$tag: generating the model"; continue; }
    fi
    echo "== $tag"
    v=TOL_MAX_$type; TOL_MAX=${!v:-}
    v=TOL_RMS_$type; TOL_RMS=${!v:-}
    export TOL_MAX TOL_RMS
    oracle_check_model "$tag" "$model" "$type" "$vocab" $ORACLE/numpy_gpt2_gemma3.py "$prompt" "$text" || continue
    $PY $ORACLE/numpy_gpt2_gemma3.py mutants "$model" "$ids_json" "$tmp/lc.bin" "$type" "$prompt_ids" "$lc_ids" \
      || fail "$tag: a deliberate mistake stays inside the logit tolerance"
    # llama.cpp's tokenize adds BOS where the model says so; wgpt's --special does the same
    if w_tok=$(printf '%s' "$text" | "$WGPT" tokenize --special -m "$model" 2>"$tmp/err"); then
      [ "$(echo $w_tok)" = "$ids" ] || fail "$tag: wgpt tokenize differs from llama.cpp"
    else
      tail -n 5 "$tmp/err"; fail "$tag: wgpt tokenize failed"
    fi
    wgpt_check_model "$tag" "$model" "$type" "$vocab" "$prompt"
    if "$WGPT" verify -m "$model" -p "$prompt" >"$tmp/v.log" 2>&1; then
      echo "wgpt verify: $(tail -n 1 "$tmp/v.log")"
    else
      tail -n 8 "$tmp/v.log"; fail "$tag: wgpt verify"
    fi
  done
  echo "smallest top-1/top-2 logit gap on llama.cpp's greedy paths: $min_gap_all"
  [ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
  echo "all $arch models match llama.cpp"
}
