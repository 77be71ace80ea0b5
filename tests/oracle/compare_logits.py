#!/usr/bin/python3
"""Compares two little-endian f32 logit files [positions][vocab]: REF (the
oracle, llama.cpp) and GOT (the implementation under test).

  compare_logits.py REF GOT --vocab V --type {f32,f16,bf16,q8_0,q4_0,q4_K,q5_K,q6_K} [--label NAME]

With scale = max |REF| and spread = std(REF), it passes when
  max |GOT - REF| <= tol_max * scale,
  rms(GOT - REF)  <= tol_rms * spread, and
  argmax(GOT) == argmax(REF) at every position whose REF top-1/top-2 gap
  exceeds 2 * tol_max * scale (closer calls may legitimately flip).
Tolerances per weight type, and why (measured on the tiny models, llama.cpp
against a float64 forward pass on the same dequantized weights):
  f32   1e-3  1e-3   llama.cpp is within 1e-6 of exact; the rest is room for
                     GPU reduction order and fast transcendental functions.
  f16   2e-3  2e-3   llama.cpp rounds activations to f16 before f16 matmuls:
                     ~4e-4 of scale.
  bf16  1e-2  1e-2   llama.cpp rounds activations to bf16 before bf16 matmuls:
                     ~2e-3 of scale, ~2.8e-3 of spread.
  q8_0  3e-2  3e-2   llama.cpp quantizes activations to q8_0 blocks before
  q4_0  3e-2  3e-2   q8_0/q4_0 matmuls: ~9e-3 of scale, ~1.1e-2 of spread.
  q4_K  3e-2  3e-2   (llama.cpp's Q4_K_M, Q5_K_M, Q6_K mixes, named by their
  q5_K  3e-2  3e-2   main type) llama.cpp quantizes activations to q8_K
  q6_K  3e-2  3e-2   blocks (8 bits, one scale amax/127 per 256) before
                     q4_K/q5_K/q6_K matmuls: the same 8-bit rounding as for
                     q8_0/q4_0, so the same tolerance and --exact rule.
A wrong RoPE pairing, GQA head mapping or missing RoPE gives errors of
0.2-1.3 of scale on these models; ignoring rope_freqs ~8e-3 (caught on f16).
With --exact EXACT (the float64 forward's logits), the q8_0, q4_0 and K-quant
tolerances grow to 3x REF's own distance from EXACT where that is larger:
both engines quantize the activations of those products to 8 bits, llama.cpp
with a scale of amax/127, wgpt with the next power of two (a step up to
twice as coarse, so that the GPU and the CPU reference agree bit for bit),
so wgpt's distance from llama.cpp is up to llama.cpp's own error plus one up
to twice its size. On the models of these tests that is 1.7-2.6x.
Deeper models accumulate more of llama.cpp's rounding: on a 16-layer
q4_0 model (make_llama1b.py --scale-down 8) it reaches ~2.2e-2 of scale, so
give such comparisons --tol-max/--tol-rms of their own.
Exit 0 on pass, 1 on fail; prints one summary line either way."""

import argparse
import sys

import numpy as np

TOLERANCES = {"f32": (1e-3, 1e-3), "f16": (2e-3, 2e-3), "bf16": (1e-2, 1e-2), "q8_0": (3e-2, 3e-2), "q4_0": (3e-2, 3e-2),
              "q4_K": (3e-2, 3e-2), "q5_K": (3e-2, 3e-2), "q6_K": (3e-2, 3e-2)}
# Types whose matmuls llama.cpp feeds 8-bit activations (see --exact).
EIGHT_BIT_ACTIVATIONS = ("q8_0", "q4_0", "q4_K", "q5_K", "q6_K")


def load(path, vocab):
    a = np.fromfile(path, dtype="<f4")
    if a.size == 0 or a.size % vocab:
        raise SystemExit(f"{path}: {a.size} floats is not a whole number of {vocab}-logit rows")
    return a.reshape(-1, vocab).astype(np.float64)


def compare(ref, got, wtype, tol_max=None, tol_rms=None):
    tol_max = tol_max or TOLERANCES[wtype][0]
    tol_rms = tol_rms or TOLERANCES[wtype][1]
    problems = []
    if ref.shape != got.shape:
        return False, f"shape {got.shape} != reference {ref.shape}"
    if not np.all(np.isfinite(got)):
        return False, "non-finite logits"
    d = np.abs(got - ref)
    scale, spread = np.abs(ref).max(), ref.std()
    max_rel, rms_rel = d.max() / scale, np.sqrt(np.mean(d * d)) / spread
    s = np.sort(ref, axis=1)
    decided = (s[:, -1] - s[:, -2]) > 2 * tol_max * scale
    agree = ref.argmax(1) == got.argmax(1)
    bad_top1 = np.nonzero(decided & ~agree)[0]
    if max_rel > tol_max:
        p = int(np.unravel_index(d.argmax(), d.shape)[0])
        problems.append(f"max diff {max_rel:.2e} of scale > {tol_max:g} (position {p})")
    if rms_rel > tol_rms:
        problems.append(f"rms diff {rms_rel:.2e} of spread > {tol_rms:g}")
    if len(bad_top1):
        problems.append(f"top-1 differs at decided positions {bad_top1[:8].tolist()}")
    summary = (f"{ref.shape[0]} positions, scale {scale:.3g}, max diff {max_rel:.2e} of scale, "
               f"rms {rms_rel:.2e} of spread, top-1 agrees {int(agree.sum())}/{len(agree)} "
               f"({int(decided.sum())} decided)")
    return not problems, summary + ("; " + "; ".join(problems) if problems else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ref")
    ap.add_argument("got")
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--type", required=True, choices=sorted(TOLERANCES))
    ap.add_argument("--label", default="")
    ap.add_argument("--tol-max", type=float, help="override the type's max tolerance")
    ap.add_argument("--tol-rms", type=float, help="override the type's rms tolerance")
    ap.add_argument("--exact", help="the exact forward's logits: 8-bit-activation types (q8_0, q4_0, K-quants) "
                    "get 3x REF's distance from them")
    a = ap.parse_args()
    ref = load(a.ref, a.vocab)
    tol_max, tol_rms = a.tol_max, a.tol_rms
    if a.exact and a.type in EIGHT_BIT_ACTIVATIONS:
        exact = load(a.exact, a.vocab)
        if exact.shape != ref.shape:
            raise SystemExit(f"{a.exact}: shape {exact.shape} != reference {ref.shape}")
        d = np.abs(ref - exact)
        own_max, own_rms = d.max() / np.abs(exact).max(), np.sqrt(np.mean(d * d)) / exact.std()
        tol_max = max(tol_max or TOLERANCES[a.type][0], 3 * own_max)
        tol_rms = max(tol_rms or TOLERANCES[a.type][1], 3 * own_rms)
        print(f"tolerance {tol_max:.2e} / {tol_rms:.2e}: 3x llama.cpp's own distance from the exact forward "
              f"({own_max:.2e} of scale, {own_rms:.2e} of spread), or the {a.type} default")
    ok, msg = compare(ref, load(a.got, a.vocab), a.type, tol_max, tol_rms)
    print(f"{a.label + ': ' if a.label else ''}{'ok' if ok else 'FAIL'}: {msg}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
