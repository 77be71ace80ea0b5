#!/usr/bin/python3
"""numpy_llama.py for GGUFs of any ggml type llama.cpp's gguf-py can
dequantize (K-quants, q5_0, ...), not only the ones scripts/gguf_writer.py
writes: the float64 forward pass over weights dequantized by llama.cpp's own
Python reference (gguf.quants, from the source node-llama-cpp ships), so the
exact answer for a file made by llama.cpp's quantizer does not depend on
wgpt's code. Same arguments and output as numpy_llama.py."""

import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, os.path.join(root, "scripts"))
sys.path.insert(0, here)
import gguf_writer as gw  # noqa: E402
import llamacpp_src  # noqa: E402
import numpy_llama  # noqa: E402

gguf = llamacpp_src.import_gguf()
_own_nbytes, _own_dequantize = gw.tensor_nbytes, gw.dequantize
_OWN = (gw.GGML_F32, gw.GGML_F16, gw.GGML_BF16, gw.GGML_Q8_0, gw.GGML_Q4_0)


def tensor_nbytes(gtype, n_elements, row_len):
    if gtype in _OWN:
        return _own_nbytes(gtype, n_elements, row_len)
    block, size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(gtype)]
    if row_len % block:
        raise ValueError(f"row length {row_len} is not a multiple of {block}")
    return n_elements // block * size


def dequantize(raw, gtype, shape):
    if gtype in _OWN:
        return _own_dequantize(raw, gtype, shape)
    qt = gguf.GGMLQuantizationType(gtype)
    rows = np.frombuffer(raw, np.uint8).reshape(int(np.prod(shape[:-1])), -1)
    return gguf.quants.dequantize(rows, qt).astype(np.float32).reshape(shape)


gw.tensor_nbytes, gw.dequantize = tensor_nbytes, dequantize

if __name__ == "__main__":
    sys.exit(numpy_llama.main())
