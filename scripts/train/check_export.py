#!/usr/bin/python3
"""Checks an export of train.py against wgpt and llama.cpp (CPU, through
tests/oracle/llamacpp.mjs), here, without torch.

  check_export.py DIR GGUF [GGUF ...] [--wgpt build/wgpt] [--tol 1e-3]
                  [--no-llamacpp] [--no-wgpt]

DIR holds ref/ (reference.npz, reference.json, valid_ids.json,
kjv_valid.txt) as train.py writes it (OUT, or NAME/ from the shipped tar).
For each GGUF:
- logits of every reference prompt (`wgpt logits --ids`, llama.cpp logits)
  against the float64 PyTorch reference: max |diff| and top-1 agreement; an
  f32 or f16 file must be within --tol (the weights are f16-exact, so both
  hold the reference model exactly; llama.cpp's f16 path rounds the
  activations to f16, so there only f32 is held to it); quantized files are
  reported only;
- greedy: `wgpt run --temp 0 -n 64 --print-ids` and llama.cpp's greedy ids for
  the reference's greedy prompts, against each other and the reference;
- tokenizer: `wgpt tokenize --special` and llama.cpp's tokenize of
  kjv_valid.txt against the `tokenizers` ids in valid_ids.json.
Exits 1 when a required check fails.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ORACLE = os.path.join(ROOT, "tests", "oracle", "llamacpp.mjs")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_np  # noqa: E402


def run(cmd, inp=None):
    r = subprocess.run(cmd, input=inp, capture_output=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed ({r.returncode}): {r.stderr.decode(errors='replace')[-500:]}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("gguf", nargs="+")
    ap.add_argument("--wgpt", default=os.path.join(ROOT, "build", "wgpt"))
    ap.add_argument("--tol", type=float, default=1e-3, help="max |logit diff| for f32/f16 files")
    ap.add_argument("--no-llamacpp", action="store_true")
    ap.add_argument("--no-wgpt", action="store_true")
    a = ap.parse_args()
    ref = json.load(open(os.path.join(a.dir, "ref", "reference.json"), encoding="utf-8"))
    npz = np.load(os.path.join(a.dir, "ref", "reference.npz"))
    valid = json.load(open(os.path.join(a.dir, "ref", "valid_ids.json")))
    valid_text = open(os.path.join(a.dir, "ref", "kjv_valid.txt"), encoding="utf-8").read()
    engines = ([] if a.no_wgpt else ["wgpt"]) + ([] if a.no_llamacpp else ["llama.cpp"])
    fails = []
    tmp = tempfile.mkdtemp()

    def logits(engine, gguf, ids, out):
        if engine == "wgpt":
            run([a.wgpt, "logits", "-m", gguf, "--ids", " ".join(map(str, ids)), "-o", out])
        else:
            run(["node", ORACLE, "logits", gguf, json.dumps(ids), out])
        return np.fromfile(out, "<f4").reshape(len(ids), -1)

    def greedy(engine, gguf, text, n):
        if engine == "wgpt":
            return [int(x) for x in run([a.wgpt, "run", "-m", gguf, "-p", text, "-n", str(n), "--temp", "0",
                                         "--print-ids"]).split()]
        return [int(x) for x in run(["node", ORACLE, "greedy", gguf, text, str(n)]).decode().split("\n")[0].split()]

    for gguf in a.gguf:
        meta, _ = llama_np.read_gguf(gguf, dequant=False)
        exact = meta.get("general.file_type") in (0, 1)
        kind = {0: "f32", 1: "f16", 7: "q8_0", 2: "q4_0"}.get(meta.get("general.file_type"), "?")
        print(f"== {gguf} ({kind})")
        for eng in engines:
            worst, agree, n = 0.0, 0, 0
            for k, p in enumerate(ref["prompts"]):
                ids = [int(x) for x in npz[f"ids_{k}"]]
                lg = logits(eng, gguf, ids, os.path.join(tmp, "l.bin"))
                r = npz[f"logits_{k}"]
                worst = max(worst, float(np.max(np.abs(lg - r))))
                agree += int(np.sum(lg.argmax(-1) == r.argmax(-1)))
                n += len(ids)
            # llama.cpp rounds activations to f16 for f16 weights: only its f32 run is exact.
            strict = exact and (kind == "f32" or eng == "wgpt")
            ok = worst <= a.tol or not strict
            print(f"  {eng:9s} logits vs reference: max |diff| {worst:.3g}, top-1 {agree}/{n}"
                  + ("" if ok else f"  FAIL (tolerance {a.tol})"))
            if not ok:
                fails.append(f"{gguf}: {eng} logits")
        got = {}
        for eng in engines:
            got[eng] = []
            for p in ref["prompts"]:
                if "greedy" not in p:
                    continue
                g = greedy(eng, gguf, p["text"], len(p["greedy"]["ids"]))
                got[eng].append(g)
                same = g == p["greedy"]["ids"]
                print(f"  {eng:9s} greedy {p['text']!r}: {'= reference' if same else 'differs from reference'}"
                      f" (min reference gap {p['greedy']['min_gap']:.3f})")
                if exact and not same:
                    fails.append(f"{gguf}: {eng} greedy {p['text']!r}")
        if len(engines) == 2:
            same = got["wgpt"] == got["llama.cpp"]
            print(f"  greedy wgpt {'==' if same else '!='} llama.cpp")
            if not same:
                fails.append(f"{gguf}: greedy wgpt vs llama.cpp")
        for eng in engines:
            if eng == "wgpt":
                ids = [int(x) for x in run([a.wgpt, "tokenize", "-m", gguf, "--special"], valid_text.encode()).split()]
            else:
                ids = [int(x) for x in run(["node", ORACLE, "tokenize", gguf, valid_text]).split()]
            same = ids == valid["ids"]
            print(f"  {eng:9s} tokenize kjv_valid.txt: {len(ids)} ids, "
                  f"{'= tokenizers' if same else 'DIFFERS from tokenizers'} ({len(valid['ids'])})")
            if not same:
                fails.append(f"{gguf}: {eng} tokenize")
    if fails:
        print("FAILED:", *fails, sep="\n  ")
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
