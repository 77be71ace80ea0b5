#!/usr/bin/python3
"""Writes a random-weight tiny GPT-2 or Gemma 3 (text) GGUF with llama.cpp's
OWN GGUF writer (gguf-py from the llama.cpp source node-llama-cpp ships,
cloned into build/llama.cpp-src by scripts/llamacpp_src.py), in the form
llama.cpp's convert_hf_to_gguf.py writes these architectures (its
conversion/ package: GPT2Model, Gemma3Model): tensor names, key spellings,
which tensors stay F32 and the Q8_0/Q4_0 quantizers are llama.cpp's.

  make_tiny_gpt2_gemma3.py --arch gpt2|gemma3 --type f32|f16|bf16|q8_0|q4_0 --seed N --out PATH
      [--dim 64 --layers L --heads 4 --kv-heads K --ffn F --head-dim D --ctx C --vocab 512]
      [--window 16 --rope-base 1e6 --rope-base-swa 1e4 --softcap 0] [--tied] [--bigram 1.0]
      [--qk-norm 1.5] [--check]

gpt2 (GPT2Model): gpt2.{block_count, context_length, embedding_length,
  feed_forward_length (4 dim), attention.head_count,
  attention.layer_norm_epsilon}; token_embd, position_embd [ctx, dim] (F32
  whatever the type: the converter keeps it so), blk.N.attn_norm.{weight,bias},
  attn_qkv.{weight,bias} (c_attn transposed: [3 dim, dim], rows Q, K, V),
  attn_output.{weight,bias}, ffn_norm.{weight,bias}, ffn_up.{weight,bias},
  ffn_down.{weight,bias}, output_norm.{weight,bias}; output.weight unless
  --tied (GPT-2's checkpoints are tied: lm_head is not stored). Defaults:
  2 layers, 4 heads, ctx 1024. Vocabulary: byte-level BPE ("gpt2" model,
  pre-tokenizer "gpt-2"), as make_tiny_qwen.py builds it; <|endoftext|>
  is bos and eos.
gemma3 (Gemma3Model): gemma3.{block_count, context_length,
  embedding_length, feed_forward_length, attention.head_count,
  attention.head_count_kv, rope.freq_base (global layers),
  rope.freq_base_swa (rope_local_base_freq), attention.layer_norm_rms_epsilon,
  attention.key_length, attention.value_length, attention.sliding_window,
  final_logit_softcapping (only when set)}; every *norm.weight holds Gemma's
  1 + w (the converter adds the 1) and stays F32; attn_q_norm/attn_k_norm
  [head_dim]; post_attention_norm, post_ffw_norm; output.weight unless
  --tied (Gemma 3 ships tied; the tests write both forms).
  Defaults: 7 layers (so that with llama.cpp's default pattern of 6 layers
  0-4 and 6 are windowed and 5 global), 4 heads over 2 KV heads,
  head_dim 32 (!= dim/heads = 16), window 16, ffn 128. Vocabulary:
  SentencePiece-style ("llama" model, as the converter writes from
  tokenizer.model), as make_tiny_llama.py builds it, add_bos true,
  add_space_prefix false (as the converter writes Gemma 3).

Weights are scaled like a trained network's (std 1/sqrt(fan_in)); --bigram
gives output.weight (untied) a successor structure so greedy choices lead
by clear margins; gemma3's attn_q/attn_k are 4x larger so only the q/k
norms (mean --qk-norm) bring Q and K back. --check reports the smallest
top-1/top-2 gap of the float64 forward (tests/oracle/numpy_gpt2_gemma3.py)."""

import argparse
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llamacpp_src  # noqa: E402

gguf = llamacpp_src.import_gguf()
from gguf import quants  # noqa: E402
from gguf.constants import MODEL_ARCH, MODEL_TENSOR, MODEL_TENSORS, TENSOR_NAMES  # noqa: E402

import make_tiny_llama  # noqa: E402
import make_tiny_qwen  # noqa: E402

ARCHS = {"gpt2": MODEL_ARCH.GPT2, "gemma3": MODEL_ARCH.GEMMA3}
QT = gguf.GGMLQuantizationType
QTYPES = {"f32": QT.F32, "f16": QT.F16, "bf16": QT.BF16, "q8_0": QT.Q8_0, "q4_0": QT.Q4_0}
FILE_TYPES = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
              "bf16": gguf.LlamaFileType.MOSTLY_BF16, "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
              "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0}
QK_SCALE = 4.0


def tname(t, bid=None, suffix="weight"):
    base = TENSOR_NAMES[t].format(bid=bid) if bid is not None else TENSOR_NAMES[t]
    return f"{base}.{suffix}"


def tensor_plan(arch, cfg, tied):
    """(name, numpy shape [rows, cols], kind) in the converter's order."""
    d, H, KV, hd, ff, V = cfg["dim"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"], cfg["ffn"], cfg["vocab"]
    T = MODEL_TENSOR
    if arch == "gpt2":
        plan = [(T.TOKEN_EMBD, None, "weight", (V, d), "embd"), (T.POS_EMBD, None, "weight", (cfg["ctx"], d), "pos")]
        for i in range(cfg["layers"]):
            plan += [(T.ATTN_NORM, i, "weight", (d,), "norm"), (T.ATTN_NORM, i, "bias", (d,), "bias"),
                     (T.ATTN_QKV, i, "weight", ((H + 2 * KV) * hd, d), "mat"),
                     (T.ATTN_QKV, i, "bias", ((H + 2 * KV) * hd,), "bias"),
                     (T.ATTN_OUT, i, "weight", (d, H * hd), "blockout"), (T.ATTN_OUT, i, "bias", (d,), "bias"),
                     (T.FFN_NORM, i, "weight", (d,), "norm"), (T.FFN_NORM, i, "bias", (d,), "bias"),
                     (T.FFN_UP, i, "weight", (ff, d), "mat"), (T.FFN_UP, i, "bias", (ff,), "bias"),
                     (T.FFN_DOWN, i, "weight", (d, ff), "blockout"), (T.FFN_DOWN, i, "bias", (d,), "bias")]
        plan += [(T.OUTPUT_NORM, None, "weight", (d,), "outnorm"), (T.OUTPUT_NORM, None, "bias", (d,), "bias")]
    else:
        plan = [(T.TOKEN_EMBD, None, "weight", (V, d), "embd")]
        for i in range(cfg["layers"]):
            plan += [(T.ATTN_NORM, i, "weight", (d,), "norm"),
                     (T.ATTN_Q, i, "weight", (H * hd, d), "qk"), (T.ATTN_K, i, "weight", (KV * hd, d), "qk"),
                     (T.ATTN_V, i, "weight", (KV * hd, d), "mat"),
                     (T.ATTN_Q_NORM, i, "weight", (hd,), "qknorm"), (T.ATTN_K_NORM, i, "weight", (hd,), "qknorm"),
                     (T.ATTN_OUT, i, "weight", (d, H * hd), "mat"),
                     (T.ATTN_POST_NORM, i, "weight", (d,), "postnorm"), (T.FFN_PRE_NORM, i, "weight", (d,), "norm"),
                     (T.FFN_GATE, i, "weight", (ff, d), "mat"), (T.FFN_UP, i, "weight", (ff, d), "mat"),
                     (T.FFN_DOWN, i, "weight", (d, ff), "mat"), (T.FFN_POST_NORM, i, "weight", (d,), "postnorm")]
        plan.append((T.OUTPUT_NORM, None, "weight", (d,), "outnorm"))
    if not tied:
        plan.append((T.OUTPUT, None, "weight", (V, d), "out"))
    allowed = set(MODEL_TENSORS[ARCHS[arch]])
    for t, _, _, _, _ in plan:
        if t not in allowed:
            raise SystemExit(f"{t.name} is not a tensor of llama.cpp's {arch}")
    return [(tname(t, bid, sfx), shape, kind) for t, bid, sfx, shape, kind in plan]


def init_tensor(rng, shape, kind, arch, tied, n_special, qk_norm, block_scale=1.0):
    f32 = np.float32
    r = lambda: rng.standard_normal(shape, dtype=f32)  # noqa: E731
    if kind == "postnorm":  # what a Gemma block adds to the residual stream is normed to these
        return ((1.0 + 0.1 * r()) * block_scale).astype(f32)
    if kind in ("norm", "outnorm"):
        w = (1.0 + 0.1 * r()).astype(f32)  # gemma3: the file's 1 + w with w ~ 0.1 N(0, 1)
        # a tied model's small embedding (below) is made up for here
        return w * f32(5.0 if arch == "gpt2" else 10.0) if (kind == "outnorm" and tied) else w
    if kind == "qknorm":
        return (qk_norm + 0.2 * qk_norm * r()).astype(f32)
    if kind == "bias":
        return r() * f32(0.3)
    if kind == "pos":
        return r() * f32(0.5)
    if kind in ("mat", "qk", "blockout"):
        scale = QK_SCALE if kind == "qk" else block_scale if kind == "blockout" else 1.0
        return r() * f32(scale / math.sqrt(shape[1]))
    # embedding / output: gemma3 multiplies the embedding by sqrt(dim)
    # A tied embedding is kept small next to the layers' outputs (as
    # make_tiny_qwen.py does), or each token's own row wins and greedy loops.
    std = (0.1 if arch == "gpt2" else 0.04) if tied else 0.5 if kind == "out" else 1.0
    if kind == "embd" and arch == "gemma3" and not tied:
        std = 1.0 / math.sqrt(shape[1])
    x = r() * f32(std)
    x[-n_special:] *= f32(0.1)
    return x


def write_model(path, arch, wtype, seed, cfg, tied, bigram, qk_norm, block_scale=1.0):
    if arch == "gpt2":
        tokens, types, merges = make_tiny_qwen.build_vocab(cfg["vocab"])
        scores = None
        n_special = len(make_tiny_qwen.SPECIALS)
    else:
        tokens, scores, types = make_tiny_llama.build_vocab(cfg["vocab"])
        n_special = 3
    cfg = dict(cfg, vocab=len(tokens))
    qtype = QTYPES[wtype]
    rng = np.random.default_rng(seed)

    tmp = f"{path}.part{os.getpid()}"
    w = gguf.GGUFWriter(tmp, gguf.MODEL_ARCH_NAMES[ARCHS[arch]])
    w.add_name(f"tiny-{arch}-{wtype}-s{seed}")
    w.add_type(gguf.GGUFType.MODEL)
    w.add_block_count(cfg["layers"])
    w.add_context_length(cfg["ctx"])
    w.add_embedding_length(cfg["dim"])
    w.add_feed_forward_length(cfg["ffn"])
    w.add_head_count(cfg["heads"])
    if arch == "gpt2":
        w.add_layer_norm_eps(cfg["eps"])
    else:
        w.add_head_count_kv(cfg["kv_heads"])
        w.add_rope_freq_base(cfg["rope_base"])
        w.add_rope_freq_base_swa(cfg["rope_base_swa"])
        w.add_layer_norm_rms_eps(cfg["eps"])
        w.add_key_length(cfg["head_dim"])
        w.add_value_length(cfg["head_dim"])
        if cfg["softcap"]:
            w.add_final_logit_softcapping(cfg["softcap"])
        w.add_sliding_window(cfg["window"])
    w.add_file_type(FILE_TYPES[wtype])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    if arch == "gpt2":
        eot = tokens.index("<|endoftext|>")
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("gpt-2")
        w.add_token_list(tokens)
        w.add_token_types(types)
        w.add_token_merges(merges)
        w.add_bos_token_id(eot)
        w.add_eos_token_id(eot)
    else:
        w.add_tokenizer_model("llama")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(types)
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_unk_token_id(0)
        w.add_add_bos_token(True)
        w.add_add_eos_token(False)
        w.add_add_space_prefix(False)

    embd = None
    for name, shape, kind in tensor_plan(arch, cfg, tied):
        x = init_tensor(rng, shape, kind, arch, tied, n_special, qk_norm, block_scale)
        if kind == "embd":
            embd = x
        if kind == "out" and bigram:
            make_tiny_qwen.add_successors(x, embd, bigram, rng, n_special)
        # The converter keeps 1-D tensors, norms and position_embd in F32.
        if x.ndim == 1 or kind == "pos" or qtype == QT.F32:
            w.add_tensor(name, x.astype(np.float32))
        elif qtype == QT.F16:
            w.add_tensor(name, x.astype(np.float16))
        else:
            w.add_tensor(name, quants.quantize(x, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, path)
    return cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, choices=sorted(ARCHS))
    ap.add_argument("--type", default="f32", choices=list(QTYPES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, help="gemma3 (default 2); gpt2 has heads")
    ap.add_argument("--ffn", type=int, help="default: 4 dim (gpt2), 128 (gemma3)")
    ap.add_argument("--head-dim", type=int, help="gemma3 (default 32)")
    ap.add_argument("--ctx", type=int, default=1024)
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--rope-base", type=float, default=1e6)
    ap.add_argument("--rope-base-swa", type=float, default=1e4)
    ap.add_argument("--softcap", type=float, default=0.0, help="gemma3 final_logit_softcapping (0: not written)")
    ap.add_argument("--tied", action="store_true", help="no output.weight")
    ap.add_argument("--bigram", type=float, default=1.0, help="successor structure strength (untied only)")
    ap.add_argument("--qk-norm", type=float, default=1.5, help="gemma3: mean of the q/k norm weights")
    ap.add_argument("--block-scale", type=float, default=1.0,
                    help="the blocks' share of the residual stream (gpt2: attn_output and ffn_down, gemma3: the "
                         "post-norms times this), smaller for greedy paths that llama.cpp's activation rounding "
                         "cannot flip")
    ap.add_argument("--check", action="store_true", help="report the top-1/top-2 logit gaps of the exact forward")
    a = ap.parse_args()
    if a.arch == "gpt2":
        layers, kv, hd, ffn = a.layers or 2, a.heads, a.dim // a.heads, a.ffn or 4 * a.dim
        if a.kv_heads not in (None, a.heads) or a.head_dim not in (None, hd):
            ap.error("gpt2 has kv-heads = heads and head_dim = dim / heads")
    else:
        layers, kv, hd, ffn = a.layers or 7, a.kv_heads or 2, a.head_dim or 32, a.ffn or 128
    if a.dim % a.heads or a.heads % kv or hd % 2:
        ap.error("dim must split into heads, heads into kv-heads, head_dim must be even")
    cfg = dict(dim=a.dim, layers=layers, heads=a.heads, kv_heads=kv, head_dim=hd, ffn=ffn, ctx=a.ctx,
               vocab=a.vocab, window=a.window, rope_base=a.rope_base, rope_base_swa=a.rope_base_swa,
               softcap=a.softcap, eps=1e-5 if a.arch == "gpt2" else 1e-6)
    cfg = write_model(a.out, a.arch, a.type, a.seed, cfg, a.tied, a.bigram, a.qk_norm, a.block_scale)
    if a.check:
        sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "oracle"))
        import numpy_gpt2_gemma3 as nm
        m = nm.Model(a.out)
        seq = np.random.default_rng(a.seed + 1).integers(3, cfg["vocab"] - 3, 64)
        s = np.sort(m.forward(seq.tolist()), axis=-1)
        gaps = s[:, -1] - s[:, -2]
        print(f"{a.out}: {os.path.getsize(a.out)} bytes; top-1/top-2 logit gap over {len(seq)} "
              f"positions: min {gaps.min():.4f}, median {np.median(gaps):.3f}; logit scale {np.abs(s).max():.2f}")


if __name__ == "__main__":
    main()
