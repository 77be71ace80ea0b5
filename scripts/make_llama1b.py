#!/usr/bin/python3
"""Writes a random-weight GGUF shaped like Llama 3.2 1B: dim 2048, 16 layers,
32 heads, 8 KV heads, FFN 8192, vocab 128256, tied output, Llama 3 rope
scaling (rope_freqs.weight, base 500000), context 131072 in the metadata.
For benchmarks and memory/size tests where real weights are not needed.

  make_llama1b.py --out PATH --type {f16,q8_0,q4_0} [--seed N] [--threads N]
      [--layers N] [--scale-down F]

--layers N keeps the widths and uses N blocks; --scale-down F divides dim,
FFN and head counts by F (head size stays 64, the vocabulary stays 128256)
so the file is small enough to check quickly, e.g. that llama.cpp loads it.

The tokenizer is make_tiny_llama.py's SentencePiece-style vocabulary padded
with pieces "<pad_N>" of type NORMAL up to 128256: they render as text, and
no SPM merge can build them (their "<" has no piece of its own), so text
tokenizes exactly as with the tiny vocabulary.

Tensors are generated and encoded in row chunks on a thread pool (numpy
releases the GIL) and written in order, so memory stays near
threads x chunk size: ~1.5 GB with 16 threads. Weights are uniform with the
std make_tiny_llama.py uses (uniform is ~8x cheaper to draw than normal);
each chunk has its own seed, so the file does not depend on --threads.
"""

import argparse
import collections
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_writer as gw  # noqa: E402
import make_tiny_llama as mt  # noqa: E402

VOCAB = 128256
CHUNK_ELEMS = 1 << 22  # per encoding job; bounds memory per thread


def padded_vocab(n):
    tokens, scores, types = mt.build_vocab(512)
    k = len(tokens)
    tokens = tokens + [f"<pad_{i}>" for i in range(k, n)]
    scores = scores + [-1e9] * (n - k)
    types = types + [mt.TOKEN_NORMAL] * (n - k)
    return tokens, scores, types


def uniform(rng, shape, std):
    # Uniform on [-a, a] has std a / sqrt(3).
    x = rng.random(shape, dtype=np.float32)
    return (x - np.float32(0.5)) * np.float32(2 * math.sqrt(3) * std)


def ordered_parallel(pool, fn, args, depth):
    """Like pool.map but with at most `depth` jobs in flight, so finished
    chunks waiting to be written cannot pile up."""
    q = collections.deque()
    for a in args:
        q.append(pool.submit(fn, *a))
        if len(q) >= depth:
            yield q.popleft().result()
    while q:
        yield q.popleft().result()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--type", default="q4_0", choices=["f16", "q8_0", "q4_0"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 4)
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--scale-down", type=int, default=1, metavar="F")
    a = ap.parse_args()
    f = a.scale_down
    if f < 1 or 32 % f or 8 % f:
        ap.error("--scale-down must divide 8 (the KV head count)")
    cfg = dict(dim=2048 // f, layers=a.layers, heads=32 // f, kv_heads=8 // f, ffn=8192 // f,
               ctx=131072, rope_base=500000.0, vocab=VOCAB)
    head_dim = cfg["dim"] // cfg["heads"]
    mtype = gw.ggml_type(a.type)
    name = "Llama-3.2-1B-shaped random" + (f" (1/{f} width)" if f > 1 else "")

    w = gw.GGUFWriter(a.out)
    mt.add_llama_metadata(w, cfg, name, gw.FILE_TYPE[mtype], padded_vocab(VOCAB))
    pool = ThreadPoolExecutor(max_workers=a.threads)

    def job(tidx, shape, kind, gtype, r0, r1):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([a.seed, tidx, r0])))
        rows = (r1 - r0,) + shape[1:]
        if kind in ("norm", "outnorm"):
            x = np.float32(1) + uniform(rng, rows, 0.1)
            if kind == "outnorm":  # tied: small embedding, see make_tiny_llama.init_tensor
                x *= np.float32(4.0)
        elif kind == "embd":
            x = uniform(rng, rows, 0.02)
            if r0 < 3:  # weak rows for <unk> <s> </s>
                x[: 3 - r0] *= np.float32(0.1)
        else:
            x = uniform(rng, rows, 1.0 / math.sqrt(shape[1]))
        return gw.encode(x, gtype)

    for tidx, (tname, shape, kind) in enumerate(mt.tensor_plan(cfg, tied=True, rope_freqs=True)):
        if kind == "rope":
            w.add_tensor(tname, mt.llama3_rope_factors(head_dim, cfg["rope_base"]), gw.GGML_F32)
            continue
        gtype = gw.GGML_F32 if kind in ("norm", "outnorm") else mtype
        step = max(1, CHUNK_ELEMS // int(np.prod(shape[1:])))
        ranges = [(tidx, shape, kind, gtype, r, min(r + step, shape[0])) for r in range(0, shape[0], step)]
        w.add_tensor_stream(tname, shape, gtype,
                            lambda ranges=ranges: ordered_parallel(pool, job, ranges, 2 * a.threads))

    t0 = time.time()

    def progress(tname):
        if tname.endswith("ffn_down.weight") or not tname.startswith("blk."):
            print(f"  {time.time() - t0:6.1f}s {tname}", file=sys.stderr)

    w.write(progress)
    pool.shutdown()
    print(f"{a.out}: {os.path.getsize(a.out) / 1e9:.2f} GB, {cfg['layers']} layers, dim {cfg['dim']}, "
          f"{a.type}, {time.time() - t0:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
