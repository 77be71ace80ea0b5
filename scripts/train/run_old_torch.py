#!/usr/bin/python3
"""Runs a script (train.py) on an old CPU torch, such as Debian 12's
python3-torch 1.13, by adding what it lacks: F.scaled_dot_product_attention
(a plain math version with is_causal and dropout_p) and AdamW's fused=
argument. For smoke tests without a GPU machine only:

  apt-get install python3-torch
  /usr/bin/python3 scripts/train/run_old_torch.py scripts/train/train.py --dry-run --out /tmp/wd
"""
import inspect
import math
import runpy
import sys

import torch
import torch.nn.functional as F

if not hasattr(F, "scaled_dot_product_attention"):
    def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
        assert attn_mask is None
        if not (q.dtype == k.dtype == v.dtype):
            raise RuntimeError(f"query, key and value dtypes differ: {q.dtype} {k.dtype} {v.dtype}")
        s = (q @ k.transpose(-2, -1)) * (scale or 1 / math.sqrt(q.shape[-1]))
        if is_causal:
            T, S = q.shape[-2], k.shape[-2]
            s = s.masked_fill(torch.ones(T, S, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
        p = s.softmax(-1)
        if dropout_p:
            p = F.dropout(p, dropout_p)
        return p @ v
    F.scaled_dot_product_attention = sdpa

if "fused" not in inspect.signature(torch.optim.AdamW).parameters:
    _AdamW = torch.optim.AdamW

    class AdamW(_AdamW):
        def __init__(self, *a, fused=None, **k):
            super().__init__(*a, **k)
    torch.optim.AdamW = AdamW

sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
