#!/usr/bin/python3
"""Writes a random-weight tiny Llama (or Qwen 2, Qwen 3) GGUF with the
metadata and tensor names llama.cpp's converter writes for that arch and a
small SentencePiece-style ("llama") vocabulary, so llama.cpp and wgpt can
both run it from a text prompt.

  make_tiny_llama.py --out PATH --type {f32,f16,q8_0,q4_0,bf16} --seed N
      [--arch llama|qwen2|qwen3] [--head-dim N]
      [--dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 128 --ctx 256]
      [--tied] [--rope-freqs] [--vocab 512]

--arch qwen2 adds attn_q/k/v.bias to every layer, --arch qwen3 adds
attn_q_norm/attn_k_norm (an RMSNorm over each head before RoPE); both use
llama.cpp's NEOX RoPE. --head-dim other than dim/heads is written as
<arch>.attention.key_length and value_length, as the converter does for
Qwen 3.

Weights are scaled like a trained network's activations (std 1/sqrt(fan_in)
for the projections, so attention and the FFN change the residual stream as
much as the embedding does) rather than tiny, so that a wrong RoPE, GQA head
mapping or norm shows up in the greedy tokens and not only in the 4th digit.
After writing, a float64 numpy forward pass over a random token sequence
reports the smallest top-1/top-2 logit gap: greedy comparisons are only
meaningful when that gap is well above the numeric noise.
"""

import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_writer as gw  # noqa: E402
import tiny_corpus  # noqa: E402

# Text the vocabulary's merges are learned from: the pieces that make common
# English words whole, so prompts exercise multi-step SPM merges.
CORPUS = tiny_corpus.english()

SPM_SPACE = "\u2581"  # the ▁ that SentencePiece writes for a space
TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_USER, TOKEN_UNUSED, TOKEN_BYTE = 1, 2, 3, 4, 5, 6


def build_vocab(size=512, corpus=CORPUS):
    """Returns (tokens, scores, token_types) for an SPM vocabulary:
    <unk>, <s>, </s>, the 256 byte tokens, every character of the corpus with
    and without a leading ▁, then BPE merges learned from the corpus until
    `size` tokens. A merged piece scores -rank, so llama.cpp's SPM tokenizer
    (which merges the highest-scoring adjacent pair first) replays the merges
    in the order they were learned; every piece is reachable by pair merges."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_CONTROL] + [TOKEN_BYTE] * 256
    scores = [0.0] * len(tokens)

    words = {}
    for w in corpus.split():
        w = SPM_SPACE + w
        words[w] = words.get(w, 0) + 1
    chars = sorted({c for w in words for c in w})
    for i, c in enumerate(chars):
        tokens.append(c)
        types.append(TOKEN_NORMAL)
        scores.append(-1000.0 - i)
    seen = set(tokens)

    # Plain BPE over the word list; ties broken by the pair's text so the
    # result never depends on dict ordering.
    segs = {w: list(w) for w in words}
    rank = 0
    while len(tokens) < size:
        pairs = {}
        for w, n in words.items():
            s = segs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + n
        pairs = {p: n for p, n in pairs.items() if p[0] + p[1] not in seen}
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], -len(kv[0][0] + kv[0][1]), kv[0]))
        merged = a + b
        tokens.append(merged)
        types.append(TOKEN_NORMAL)
        scores.append(-float(rank))
        seen.add(merged)
        rank += 1
        tiny_corpus.apply_merge(segs, a, b)
    # A corpus too small for `size` is padded with unreachable pieces.
    i = 0
    while len(tokens) < size:
        tokens.append(f"<unused{i}>")
        types.append(TOKEN_UNUSED)
        scores.append(-1e9)
        i += 1
    return tokens, scores, types


def llama3_rope_factors(head_dim, base, factor=32.0, low_freq_factor=1.0, high_freq_factor=4.0,
                        original_context=8192):
    """rope_freqs.weight as llama.cpp's convert_hf_to_gguf.py computes it for
    rope_type "llama3": per rotary pair, a divisor of the frequency (1 for
    short wavelengths, `factor` for long ones, a smooth blend in between)."""
    freqs = (1.0 / (np.float32(base) ** (np.arange(0, head_dim, 2, dtype=np.float32) / np.float32(head_dim)))).astype(np.float32)
    low_wavelen = original_context / low_freq_factor
    high_wavelen = original_context / high_freq_factor
    out = []
    for f in freqs:
        wavelen = 2 * math.pi / float(f)
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (original_context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def arch_of(cfg):
    return cfg.get("arch", "llama")


def head_dim_of(cfg):
    return cfg.get("head_dim") or cfg["dim"] // cfg["heads"]


def add_llama_metadata(w, cfg, name, file_type, vocab):
    tokens, scores, types = vocab
    a = arch_of(cfg)
    w.add_string("general.architecture", a)
    w.add_string("general.name", name)
    w.add_u32("general.file_type", file_type)
    w.add_u32("general.quantization_version", 2)
    w.add_u32(a + ".context_length", cfg["ctx"])
    w.add_u32(a + ".embedding_length", cfg["dim"])
    w.add_u32(a + ".block_count", cfg["layers"])
    w.add_u32(a + ".feed_forward_length", cfg["ffn"])
    w.add_u32(a + ".attention.head_count", cfg["heads"])
    w.add_u32(a + ".attention.head_count_kv", cfg["kv_heads"])
    w.add_f32(a + ".attention.layer_norm_rms_epsilon", cfg.get("eps", 1e-5))
    w.add_f32(a + ".rope.freq_base", cfg["rope_base"])
    if head_dim_of(cfg) != cfg["dim"] // cfg["heads"]:
        w.add_u32(a + ".attention.key_length", head_dim_of(cfg))
        w.add_u32(a + ".attention.value_length", head_dim_of(cfg))
    if a == "llama":  # llama.cpp's converter writes these for Llama only
        w.add_u32(a + ".rope.dimension_count", head_dim_of(cfg))
        w.add_u32(a + ".vocab_size", len(tokens))
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_array("tokenizer.ggml.tokens", tokens, gw.STRING)
    w.add_array("tokenizer.ggml.scores", scores, gw.FLOAT32)
    w.add_array("tokenizer.ggml.token_type", types, gw.INT32)
    w.add_u32("tokenizer.ggml.bos_token_id", 1)
    w.add_u32("tokenizer.ggml.eos_token_id", 2)
    w.add_u32("tokenizer.ggml.unknown_token_id", 0)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_bool("tokenizer.ggml.add_eos_token", False)


def tensor_plan(cfg, tied, rope_freqs):
    """(name, numpy shape, kind) in file order; kind is "norm", "rope",
    "embd", "out", "bias" or "mat"."""
    d, hd, a = cfg["dim"], head_dim_of(cfg), arch_of(cfg)
    qd, kvd = cfg["heads"] * hd, cfg["kv_heads"] * hd
    plan = [("token_embd.weight", (cfg["vocab"], d), "embd")]
    if rope_freqs:
        plan.append(("rope_freqs.weight", (hd // 2,), "rope"))
    for i in range(cfg["layers"]):
        p = f"blk.{i}."
        plan += [
            (p + "attn_norm.weight", (d,), "norm"),
            (p + "attn_q.weight", (qd, d), "mat"),
            (p + "attn_k.weight", (kvd, d), "mat"),
            (p + "attn_v.weight", (kvd, d), "mat"),
        ]
        if a == "qwen2":
            plan += [(p + "attn_q.bias", (qd,), "bias"), (p + "attn_k.bias", (kvd,), "bias"),
                     (p + "attn_v.bias", (kvd,), "bias")]
        if a == "qwen3":
            plan += [(p + "attn_q_norm.weight", (hd,), "norm"), (p + "attn_k_norm.weight", (hd,), "norm")]
        plan += [
            (p + "attn_output.weight", (d, qd), "mat"),
            (p + "ffn_norm.weight", (d,), "norm"),
            (p + "ffn_gate.weight", (cfg["ffn"], d), "mat"),
            (p + "ffn_up.weight", (cfg["ffn"], d), "mat"),
            (p + "ffn_down.weight", (d, cfg["ffn"]), "mat"),
        ]
    plan.append(("output_norm.weight", (d,), "outnorm"))
    if not tied:
        plan.append(("output.weight", (cfg["vocab"], d), "out"))
    return plan


def init_tensor(rng, shape, kind, cfg, tied):
    """Float32 weights for one tensor (see the module docstring for scales)."""
    if kind in ("norm", "outnorm"):
        w = (1.0 + 0.1 * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
        # A tied model's small embedding (below) is made up for here, so its
        # logits have the same spread (std ~4) as an untied model's.
        return w * np.float32(5.0) if (kind == "outnorm" and tied) else w
    if kind == "mat":
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(1.0 / math.sqrt(shape[1]))
    if kind == "bias":  # as large as a projection's output, so a dropped bias shows
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.5)
    # Embedding / output: logits of std ~4 over the vocabulary keep greedy
    # choices decisive. A tied embedding is kept small (std 0.1) next to the
    # layers' outputs (rms ~1): otherwise the current token's own row wins
    # the logits and greedy decoding repeats one token forever.
    # <unk>, <s>, </s> get weak rows so that, as in a real model mid-text,
    # they are rarely the argmax and sequences run full length.
    std = 0.1 if tied else 0.5 if kind == "out" else 1.0
    x = rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
    x[:3] *= np.float32(0.1)
    return x


def add_successors(out, embd, strength, rng):
    """Gives every ordinary token t a preferred successor succ(t) by adding
    strength * embd[t] to output row succ(t) (a random permutation of the
    non-control tokens). Random Gaussian logits have top-1/top-2 gaps piling
    up near zero, so llama.cpp's own rounding (it quantizes activations to
    8 bits for q8_0/q4_0 weights: logit errors of ~0.3 here) would flip the
    argmax every few tokens; with this structure the argmax usually leads by
    several units while attention and the FFN still move every logit."""
    ids = np.arange(3, out.shape[0])
    succ = rng.permutation(ids)
    out[succ] += np.float32(strength) * embd[ids]


# --- float64 reference forward (for the gap report and as a cross-check) ----

def rope_angles(cfg, n, factors=None):
    hd = head_dim_of(cfg)
    inv = cfg["rope_base"] ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    if factors is not None:
        inv = inv / factors.astype(np.float64)
    return np.arange(n, dtype=np.float64)[:, None] * inv[None, :]  # [n, hd/2]


def apply_rope(x, ang, neox=False):
    # llama.cpp's LLAMA_ROPE_TYPE_NORM rotates adjacent pairs (x[2i], x[2i+1]);
    # LLAMA_ROPE_TYPE_NEOX (Qwen) rotates (x[i], x[i + hd/2]).
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    half = x.shape[-1] // 2
    ia, ib = (slice(0, half), slice(half, None)) if neox else (slice(0, None, 2), slice(1, None, 2))
    a, b = x[..., ia], x[..., ib]
    out = np.empty_like(x)
    out[..., ia] = a * c - b * s
    out[..., ib] = a * s + b * c
    return out


def forward(W, cfg, tokens):
    """Logits [n, vocab] for a token sequence from position 0. W maps tensor
    names to float arrays in numpy shape (already dequantized)."""
    d, H, KV = cfg["dim"], cfg["heads"], cfg["kv_heads"]
    hd, neox = head_dim_of(cfg), arch_of(cfg) != "llama"
    eps = cfg.get("eps", 1e-5)
    n = len(tokens)
    rms = lambda x, w: x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w  # noqa: E731
    ang = rope_angles(cfg, n, W.get("rope_freqs.weight"))
    mask = np.triu(np.full((n, n), -np.inf), 1)
    x = W["token_embd.weight"][np.asarray(tokens)].astype(np.float64)

    def proj(h, p, name, heads):  # h W^T (+ bias), as [n, heads, hd]
        y = h @ W[p + name + ".weight"].T + W.get(p + name + ".bias", 0.0)
        return y.reshape(n, heads, hd)

    for i in range(cfg["layers"]):
        p = f"blk.{i}."
        h = rms(x, W[p + "attn_norm.weight"])
        q, k, v = proj(h, p, "attn_q", H), proj(h, p, "attn_k", KV), proj(h, p, "attn_v", KV)
        if p + "attn_q_norm.weight" in W:  # Qwen 3: each head normed before RoPE
            q, k = rms(q, W[p + "attn_q_norm.weight"]), rms(k, W[p + "attn_k_norm.weight"])
        q, k = apply_rope(q, ang, neox), apply_rope(k, ang, neox)
        rep = H // KV  # query head j uses kv head j // rep
        k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
        att = np.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd) + mask
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = np.einsum("hqk,khd->qhd", att, v).reshape(n, H * hd)
        x = x + o @ W[p + "attn_output.weight"].T
        h = rms(x, W[p + "ffn_norm.weight"])
        g = h @ W[p + "ffn_gate.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ W[p + "ffn_up.weight"].T)) @ W[p + "ffn_down.weight"].T
    x = rms(x, W["output_norm.weight"])
    out = W.get("output.weight", W["token_embd.weight"])
    return x @ out.T


def top_gaps(logits):
    s = np.sort(logits, axis=-1)
    return s[:, -1] - s[:, -2]


def read_weights(path):
    """Metadata and dequantized float64 weights of a GGUF."""
    meta, tensors = gw.read_gguf(path)
    return meta, {k: v.astype(np.float64) for k, v in tensors.items()}


def config_from_meta(meta):
    arch = meta.get("general.architecture", "llama")
    a = arch + "."
    return dict(arch=arch, dim=meta[a + "embedding_length"], layers=meta[a + "block_count"],
                heads=meta[a + "attention.head_count"], kv_heads=meta[a + "attention.head_count_kv"],
                ffn=meta[a + "feed_forward_length"], rope_base=meta[a + "rope.freq_base"],
                ctx=meta[a + "context_length"], vocab=len(meta["tokenizer.ggml.tokens"]),
                head_dim=meta.get(a + "attention.key_length"), eps=meta[a + "attention.layer_norm_rms_epsilon"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--arch", default="llama", choices=["llama", "qwen2", "qwen3"])
    ap.add_argument("--head-dim", type=int, default=0, help="0: dim / heads")
    ap.add_argument("--type", default="f32", choices=["f32", "f16", "q8_0", "q4_0", "bf16"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=128)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--tied", action="store_true", help="no output.weight; the embedding is reused")
    ap.add_argument("--rope-freqs", action="store_true",
                    help="Llama 3.1/3.2 rope scaling: rope_freqs.weight, rope base 500000")
    ap.add_argument("--bigram", type=float, default=1.0,
                    help="strength of the built-in successor structure (untied only; 0 = none)")
    ap.add_argument("--no-check", action="store_true", help="skip the logit-gap report")
    a = ap.parse_args()
    if (not a.head_dim and a.dim % a.heads) or a.heads % a.kv_heads or (a.head_dim or a.dim // a.heads) % 2:
        ap.error("dim must split into heads of even size (or --head-dim be even), heads into kv-heads")
    if a.rope_freqs and a.arch != "llama":
        ap.error("--rope-freqs is Llama 3's")
    cfg = dict(arch=a.arch, head_dim=a.head_dim, dim=a.dim, layers=a.layers, heads=a.heads, kv_heads=a.kv_heads,
               ffn=a.ffn, ctx=a.ctx, rope_base=500000.0 if a.rope_freqs else 1000000.0 if a.arch != "llama" else 10000.0,
               eps=1e-5 if a.arch == "llama" else 1e-6)  # Qwen's rms_norm_eps
    vocab = build_vocab(a.vocab)
    cfg["vocab"] = len(vocab[0])
    mtype = gw.ggml_type(a.type)

    rng = np.random.default_rng(a.seed)
    w = gw.GGUFWriter(a.out)
    add_llama_metadata(w, cfg, f"tiny-{a.arch}-{a.type}-s{a.seed}", gw.FILE_TYPE[mtype], vocab)
    hd = head_dim_of(cfg)
    embd = None
    for name, shape, kind in tensor_plan(cfg, a.tied, a.rope_freqs):
        if kind == "rope":
            w.add_tensor(name, llama3_rope_factors(hd, cfg["rope_base"]), gw.GGML_F32)
            continue
        x = init_tensor(rng, shape, kind, cfg, a.tied)
        if kind == "embd":
            embd = x
        if kind == "out" and a.bigram:
            add_successors(x, embd, a.bigram, rng)
        w.add_tensor(name, x, gw.GGML_F32 if kind in ("norm", "outnorm", "bias") else mtype)
    w.write()

    if not a.no_check:
        meta, W = read_weights(a.out)
        seq = np.random.default_rng(a.seed + 1).integers(3, cfg["vocab"], 64)
        seq[0] = 1
        gaps = top_gaps(forward(W, config_from_meta(meta), seq))
        print(f"{a.out}: {os.path.getsize(a.out)} bytes; top-1/top-2 logit gap over {len(seq)} "
              f"positions: min {gaps.min():.4f}, median {np.median(gaps):.3f}")


if __name__ == "__main__":
    main()
