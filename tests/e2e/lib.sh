# Shared by the e2e tests: tiny random-weight Llama GGUFs, cached in build/.
PY=/usr/bin/python3
MODELS=build/testmodels
mkdir -p "$MODELS"
# tiny_model NAME ARGS... -> path of a model made once with make_tiny_llama.py
tiny_model() {
  local name=$1; shift
  local out="$MODELS/$name.gguf"
  if [ ! -s "$out" ] || [ scripts/make_tiny_llama.py -nt "$out" ] || [ scripts/gguf_writer.py -nt "$out" ]; then
    $PY scripts/make_tiny_llama.py --out "$out" --no-check "$@" >&2 || return 1
  fi
  echo "$out"
}
need_wgpt() { [ -x build/wgpt ] || { echo "build/wgpt missing (run make)"; exit 1; }; }
