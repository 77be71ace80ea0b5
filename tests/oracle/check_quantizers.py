#!/usr/bin/python3
"""Checks scripts/gguf_writer.py's Q8_0 and Q4_0 quantizers and its BF16
rounding byte for byte against ggml's own quantize_row_*_ref and
ggml_fp32_to_bf16_row_ref (from the libggml-base.so that
node-llama-cpp ships), on data chosen to hit the edge cases: rounding ties,
all-zero blocks, equal |max| of both signs, and huge and tiny magnitudes.
Usage: check_quantizers.py [LIBGGML_BASE_SO]; exit 0 when identical."""

import ctypes
import glob
import os
import sys

import numpy as np

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(root, "scripts"))
import gguf_writer as gw  # noqa: E402


def find_lib():
    if len(sys.argv) > 1:
        return sys.argv[1]
    hits = sorted(glob.glob(os.path.join(root, "deps/node_modules/@node-llama-cpp/linux-x64/bins/*/libggml-base.so")))
    return hits[0] if hits else None


def cases(rng):
    n = 32 * 4096
    yield "normal", rng.standard_normal(n).astype(np.float32)
    yield "wide", (rng.standard_normal(n) * np.exp(rng.uniform(-20, 20, n))).astype(np.float32)
    # amax 127 makes d = 1, so the x.5 values are exact rounding ties for
    # q8_0; scaled copies put ties on other scales.
    b = np.concatenate([[127.0], np.arange(-15.5, 15.0, 1.0)]).astype(np.float32)
    yield "ties", np.concatenate([b * np.float32(2.0**e) for e in range(-8, 8)] * 256)
    z = rng.standard_normal(n).astype(np.float32)
    z[: 32 * 100] = 0  # all-zero blocks: d = 0, q = 0 (q4_0 stores 8)
    yield "zeros", z
    s = rng.standard_normal(n).astype(np.float32).reshape(-1, 32)
    s[:, 3] = 2.0
    s[:, 17] = -2.0  # |max| tie between signs: ggml keeps the first
    s[::2, 3], s[::2, 17] = -2.0, 2.0
    yield "signed_ties", s.ravel()
    yield "small_ints", rng.integers(-8, 9, n).astype(np.float32)
    # bf16 rounding ties: the dropped low half is exactly 0x8000, under top
    # halves both even and odd.
    top = rng.integers(0, 2, n) << 15 | rng.integers(100, 150, n) << 7 | rng.integers(0, 128, n)
    yield "bf16_ties", (top.astype(np.uint32) << 16 | 0x8000).view(np.float32)


def main():
    path = find_lib()
    if not path or not os.path.exists(path):
        print("libggml-base.so not found", file=sys.stderr)
        return 77
    lib = ctypes.CDLL(path)
    rng = np.random.default_rng(7)
    bad = 0
    for fn, ours, block in (("quantize_row_q8_0_ref", gw.quantize_q8_0, 34),
                            ("quantize_row_q4_0_ref", gw.quantize_q4_0, 18),
                            ("ggml_fp32_to_bf16_row_ref", gw.encode_bf16, 64)):
        f = getattr(lib, fn)
        f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        f.restype = None
        for name, x in cases(rng):
            x = np.ascontiguousarray(x, dtype=np.float32)
            ref = ctypes.create_string_buffer(x.size // 32 * block)
            f(x.ctypes.data, ref, x.size)
            with np.errstate(over="ignore"):  # "wide" overflows f16 d, as in ggml
                mine = ours(x)
            if mine != ref.raw:
                diff = np.nonzero(np.frombuffer(mine, np.uint8) != np.frombuffer(ref.raw, np.uint8))[0]
                print(f"{fn} {name}: {len(diff)} bytes differ, first block {diff[0] // block}")
                bad += 1
            else:
                print(f"{fn} {name}: identical ({x.size // 32} blocks)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
