#!/usr/bin/python3
"""Writes a random-weight tiny Qwen 2 or Qwen 3 GGUF with llama.cpp's OWN
GGUF writer (gguf-py from the llama.cpp source node-llama-cpp ships, cloned
into build/llama.cpp-src by scripts/llamacpp_src.py): tensor names, key
spellings, the file layout and the Q8_0/Q4_0 quantizers are llama.cpp's,
not ours, so wgpt is checked against files it did not write itself.

  make_tiny_qwen.py --arch qwen2|qwen3 --type f32|f16|q8_0|q4_0 --seed N --out PATH
      [--dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 128 --head-dim D]
      [--ctx 1024 --vocab 512 --rope-base 1e6] [--tied] [--bigram 1.0] [--qk-norm 2.5] [--check]

Architectures, as llama.cpp's src/models/qwen2.cpp and qwen3.cpp run them:
  qwen2  attn_q/attn_k/attn_v with biases (no attn_output bias, no output
         bias), head_dim = dim / heads; the metadata carries no key_length
         (as convert_hf_to_gguf.py writes Qwen2.5, whose config has no head_dim).
  qwen3  no biases; attn_q_norm / attn_k_norm: per-head RMSNorm weights
         [head_dim] applied to Q and K before RoPE; head_dim (default 32)
         other than dim / heads, written as {arch}.attention.key_length and
         value_length (as the converter writes Qwen3), so attn_q is
         [heads*head_dim, dim] and attn_output [dim, heads*head_dim].
Both: RMSNorm (eps 1e-6), NEOX RoPE (llama.cpp's rope type for these
archs: pairs (i, i + head_dim/2)) with base 1e6, grouped-query attention,
SwiGLU, output.weight unless --tied (the embedding is reused).

Vocabulary: byte-level BPE ("gpt2" model, pre-tokenizer "qwen2"): the 256
byte symbols of GPT-2's byte-to-unicode map as ids 0..255 in GPT-2's order,
merges learned from a small English corpus, then <|endoftext|> (bos, eos,
padding, as the converter writes Qwen base models), <|im_start|> and
<|im_end|> as CONTROL tokens at the end; add_bos_token false (Qwen feeds
no BOS).

Weights are scaled like a trained network's activations (std 1/sqrt(fan_in))
so that a wrong RoPE mode, a missing bias or q/k norm, or a wrong head
mapping shows up in greedy tokens. Qwen 2's biases have std 1 (q, k) and
0.5 (v); Qwen 3's attn_q/attn_k weights are 4x larger so Q and K have an
rms of ~4 that only the q/k norms bring back to ~1 (skipping them makes the
attention logits 16x larger); the q/k norm weights are m + 0.2 m N(0,1)
with m = --qk-norm (2.5): sharp attention, so that RoPE, GQA and q/k-norm
mistakes change the greedy tokens, not only the logits. Q8_0/Q4_0 models
need greedy paths that llama.cpp's activation rounding (3e-2 of the logit
scale) cannot flip; softer attention (--qk-norm 1) and a stronger successor
structure (--bigram 2) give those.
--bigram adds a successor structure to output.weight (untied only), as
make_tiny_llama.py does, so that greedy choices lead by clear margins.
--check reports the smallest top-1/top-2 gap of the float64 forward
(tests/oracle/numpy_qwen.py) over a random token sequence.
"""

import argparse
import math
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llamacpp_src  # noqa: E402
import tiny_corpus  # noqa: E402
from train.bytebpe import bytes_to_unicode  # noqa: E402

gguf = llamacpp_src.import_gguf()
from gguf import quants  # noqa: E402
from gguf.constants import MODEL_ARCH, MODEL_TENSOR, MODEL_TENSORS, TENSOR_NAMES  # noqa: E402

# Text the merges are learned from (and the kind of text the tests feed).
CORPUS = tiny_corpus.english("I'm", '"Café?" she said — 3€ only! def main():\n    return 0\n')

QK_SCALE = 4.0       # qwen3 attn_q/attn_k weights, times 1/sqrt(fan_in)
QK_NORM_MEAN = 2.5   # qwen3 attn_q_norm/attn_k_norm weights: mean + std N(0,1)
QK_NORM_STD = 0.5    # (main() sets them from --qk-norm)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
ARCHS = {"qwen2": MODEL_ARCH.QWEN2, "qwen3": MODEL_ARCH.QWEN3}
QTYPES = {"f32": gguf.GGMLQuantizationType.F32, "f16": gguf.GGMLQuantizationType.F16,
          "q8_0": gguf.GGMLQuantizationType.Q8_0, "q4_0": gguf.GGMLQuantizationType.Q4_0}
FILE_TYPES = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
              "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0, "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0}


# Qwen 2's pre-tokenizer regex with \p{L} / \p{N} spelled for Python's re
# (close enough to learn merges from; llama.cpp applies its own).
_L, _N = r"[^\W\d_]", r"\d"
PRETOK = re.compile(
    rf"(?i:'s|'t|'re|'ve|'m|'ll|'d)|(?:[^\r\n\w]|_)?{_L}+|{_N}| ?(?:[^\s\w]|_)+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def build_vocab(size=512, corpus=CORPUS):
    """(tokens, token_types, merges) for a byte-level BPE vocabulary of
    `size` tokens: 256 byte symbols, learned merges, the special tokens."""
    enc = bytes_to_unicode()  # in GPT-2's order: the first 256 ids of GPT-2's and Qwen's vocabularies
    tokens = list(enc.values())
    types = [gguf.TokenType.NORMAL] * 256
    words = {}
    for piece in PRETOK.findall(corpus):
        w = "".join(enc[b] for b in piece.encode("utf-8"))
        words[w] = words.get(w, 0) + 1
    segs = {w: list(w) for w in words}
    seen = set(tokens)
    merges = []
    n_merges = size - 256 - len(SPECIALS)
    while len(merges) < n_merges:
        pairs = {}
        for w, n in words.items():
            s = segs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + n
        pairs = {p: n for p, n in pairs.items() if p[0] + p[1] not in seen}
        if not pairs:
            raise SystemExit(f"corpus too small for a {size}-token vocabulary")
        # Most frequent pair; ties broken by the pair's text (deterministic).
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merged = a + b
        merges.append(f"{a} {b}")
        tokens.append(merged)
        types.append(gguf.TokenType.NORMAL)
        seen.add(merged)
        tiny_corpus.apply_merge(segs, a, b)
    tokens += SPECIALS
    types += [gguf.TokenType.CONTROL] * len(SPECIALS)
    return tokens, types, merges


def tname(t, bid=None, suffix="weight"):
    """A tensor's name from llama.cpp's constants (TENSOR_NAMES)."""
    base = TENSOR_NAMES[t].format(bid=bid) if bid is not None else TENSOR_NAMES[t]
    return f"{base}.{suffix}"


def tensor_plan(arch, cfg, tied):
    """(name, numpy shape [rows, cols], kind) in file order."""
    d, H, KV, hd, ff = cfg["dim"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"], cfg["ffn"]
    allowed = set(MODEL_TENSORS[ARCHS[arch]])
    T = MODEL_TENSOR
    plan = [(T.TOKEN_EMBD, None, "weight", (cfg["vocab"], d), "embd")]
    for i in range(cfg["layers"]):
        plan += [(T.ATTN_NORM, i, "weight", (d,), "norm"),
                 (T.ATTN_Q, i, "weight", (H * hd, d), "qk"),
                 (T.ATTN_K, i, "weight", (KV * hd, d), "qk"),
                 (T.ATTN_V, i, "weight", (KV * hd, d), "mat")]
        if arch == "qwen2":
            plan += [(T.ATTN_Q, i, "bias", (H * hd,), "bias_q"),
                     (T.ATTN_K, i, "bias", (KV * hd,), "bias_k"),
                     (T.ATTN_V, i, "bias", (KV * hd,), "bias_v")]
        else:
            plan += [(T.ATTN_Q_NORM, i, "weight", (hd,), "qknorm"),
                     (T.ATTN_K_NORM, i, "weight", (hd,), "qknorm")]
        plan += [(T.ATTN_OUT, i, "weight", (d, H * hd), "mat"),
                 (T.FFN_NORM, i, "weight", (d,), "norm"),
                 (T.FFN_GATE, i, "weight", (ff, d), "mat"),
                 (T.FFN_UP, i, "weight", (ff, d), "mat"),
                 (T.FFN_DOWN, i, "weight", (d, ff), "mat")]
    plan.append((T.OUTPUT_NORM, None, "weight", (d,), "outnorm"))
    if not tied:
        plan.append((T.OUTPUT, None, "weight", (cfg["vocab"], d), "out"))
    for t, _, _, _, _ in plan:
        if t not in allowed:
            raise SystemExit(f"{t.name} is not a tensor of llama.cpp's {arch}")
    return [(tname(t, bid, sfx), shape, kind) for t, bid, sfx, shape, kind in plan]


def init_tensor(rng, shape, kind, arch, tied, n_special):
    f32 = np.float32
    if kind in ("norm", "outnorm"):
        w = (1.0 + 0.1 * rng.standard_normal(shape, dtype=f32)).astype(f32)
        # A tied model's small embedding (below) is made up for here.
        return w * f32(5.0) if (kind == "outnorm" and tied) else w
    if kind == "qknorm":
        return (QK_NORM_MEAN + QK_NORM_STD * rng.standard_normal(shape, dtype=f32)).astype(f32)
    if kind == "bias_q" or kind == "bias_k":
        return rng.standard_normal(shape, dtype=f32)
    if kind == "bias_v":
        return rng.standard_normal(shape, dtype=f32) * f32(0.5)
    if kind in ("mat", "qk"):
        scale = QK_SCALE if (kind == "qk" and arch == "qwen3") else 1.0
        return rng.standard_normal(shape, dtype=f32) * f32(scale / math.sqrt(shape[1]))
    # Embedding / output (see make_tiny_llama.py): logits of std ~4; a tied
    # embedding kept small next to the layers' outputs; the special tokens
    # (last rows) weak so that they are rarely the argmax.
    std = 0.1 if tied else 0.5 if kind == "out" else 1.0
    x = rng.standard_normal(shape, dtype=f32) * f32(std)
    x[-n_special:] *= f32(0.1)
    return x


def add_successors(out, embd, strength, rng, n_special):
    """Every ordinary token t gets a preferred successor succ(t): output row
    succ(t) += strength * embd[t] (make_tiny_llama.py's add_successors)."""
    ids = np.arange(0, out.shape[0] - n_special)
    succ = rng.permutation(ids)
    out[succ] += np.float32(strength) * embd[ids]


def write_model(path, arch, wtype, seed, cfg, tied, bigram):
    vocab_tokens, vocab_types, merges = build_vocab(cfg["vocab"])
    cfg = dict(cfg, vocab=len(vocab_tokens))
    qtype = QTYPES[wtype]
    rng = np.random.default_rng(seed)
    n_special = len(SPECIALS)
    eot = vocab_tokens.index("<|endoftext|>")

    tmp = f"{path}.part{os.getpid()}"
    w = gguf.GGUFWriter(tmp, gguf.MODEL_ARCH_NAMES[ARCHS[arch]])
    w.add_name(f"tiny-{arch}-{wtype}-s{seed}")
    w.add_type(gguf.GGUFType.MODEL)
    w.add_block_count(cfg["layers"])
    w.add_context_length(cfg["ctx"])
    w.add_embedding_length(cfg["dim"])
    w.add_feed_forward_length(cfg["ffn"])
    w.add_head_count(cfg["heads"])
    w.add_head_count_kv(cfg["kv_heads"])
    w.add_rope_freq_base(cfg["rope_base"])
    w.add_layer_norm_rms_eps(cfg["eps"])
    if arch == "qwen3":
        w.add_key_length(cfg["head_dim"])
        w.add_value_length(cfg["head_dim"])
    w.add_file_type(FILE_TYPES[wtype])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(vocab_tokens)
    w.add_token_types(vocab_types)
    w.add_token_merges(merges)
    w.add_eos_token_id(eot)
    w.add_pad_token_id(eot)
    w.add_bos_token_id(eot)
    w.add_add_bos_token(False)

    embd = None
    for name, shape, kind in tensor_plan(arch, cfg, tied):
        x = init_tensor(rng, shape, kind, arch, tied, n_special)
        if kind == "embd":
            embd = x
        if kind == "out" and bigram:
            add_successors(x, embd, bigram, rng, n_special)
        if x.ndim == 1 or qtype == gguf.GGMLQuantizationType.F32:
            w.add_tensor(name, x.astype(np.float32))  # norms and biases stay F32, as the converter keeps them
        elif qtype == gguf.GGMLQuantizationType.F16:
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
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=128)
    ap.add_argument("--head-dim", type=int, help="qwen3 only (default 32); qwen2 uses dim / heads")
    ap.add_argument("--ctx", type=int, default=1024)
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--rope-base", type=float, default=1e6)
    ap.add_argument("--tied", action="store_true", help="no output.weight; the embedding is reused")
    ap.add_argument("--bigram", type=float, default=1.0, help="successor structure strength (untied only; 0 = none)")
    ap.add_argument("--qk-norm", type=float, default=QK_NORM_MEAN,
                    help="qwen3: mean of the q/k norm weights (std 0.2 of it); smaller = softer attention")
    ap.add_argument("--check", action="store_true", help="report the top-1/top-2 logit gaps of the exact forward")
    a = ap.parse_args()
    if a.arch == "qwen2":
        if a.head_dim is not None and a.head_dim * a.heads != a.dim:
            ap.error("qwen2 has head_dim = dim / heads")
        head_dim = a.dim // a.heads
    else:
        head_dim = a.head_dim or 32
    if a.dim % a.heads or a.heads % a.kv_heads or head_dim % 2:
        ap.error("dim must split into heads, heads into kv-heads, head_dim must be even")
    if a.type in ("q8_0", "q4_0") and (a.dim % 32 or a.ffn % 32 or (a.heads * head_dim) % 32):
        ap.error("q8_0/q4_0 rows need multiples of 32")
    cfg = dict(dim=a.dim, layers=a.layers, heads=a.heads, kv_heads=a.kv_heads, head_dim=head_dim, ffn=a.ffn,
               ctx=a.ctx, vocab=a.vocab, rope_base=a.rope_base, eps=1e-6)
    globals().update(QK_NORM_MEAN=a.qk_norm, QK_NORM_STD=0.2 * a.qk_norm)
    cfg = write_model(a.out, a.arch, a.type, a.seed, cfg, a.tied, a.bigram)
    if a.check:
        sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "oracle"))
        import numpy_qwen as nq
        m = nq.Model(a.out)
        seq = np.random.default_rng(a.seed + 1).integers(0, cfg["vocab"] - len(SPECIALS), 64)
        s = np.sort(m.forward(seq.tolist()), axis=-1)
        gaps = s[:, -1] - s[:, -2]
        print(f"{a.out}: {os.path.getsize(a.out)} bytes; top-1/top-2 logit gap over {len(seq)} "
              f"positions: min {gaps.min():.4f}, median {np.median(gaps):.3f}")


if __name__ == "__main__":
    main()
