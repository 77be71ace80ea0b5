#!/usr/bin/python3
"""A float64 numpy Llama forward pass over the dequantized weights of a GGUF
written by scripts/make_tiny_llama.py: the exact answer that llama.cpp
(which rounds activations for f16/q8_0/q4_0 weights) and wgpt approximate.
Used to check that llama.cpp reads the generated files as intended and that
the logit tolerances are ones an exact implementation meets.

  numpy_llama.py greedy MODEL IDS_JSON N     generated ids, space-separated
  numpy_llama.py logits MODEL IDS_JSON OUT   f32 [positions][vocab] logits
IDS_JSON is the full input, BOS included. Tiny models only (it recomputes
the whole sequence for every generated token)."""

import json
import os
import sys

import numpy as np

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(root, "scripts"))
import make_tiny_llama as mt  # noqa: E402


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("greedy", "logits"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, path, ids, arg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
    meta, W = mt.read_weights(path)
    cfg = mt.config_from_meta(meta)
    if cmd == "logits":
        mt.forward(W, cfg, ids).astype("<f4").tofile(arg)
        return 0
    eos = meta.get("tokenizer.ggml.eos_token_id")
    out = []
    for _ in range(int(arg)):
        t = int(np.argmax(mt.forward(W, cfg, ids + out)[-1]))  # first max, like llama.cpp
        if t == eos:
            break
        out.append(t)
    print(" ".join(map(str, out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
