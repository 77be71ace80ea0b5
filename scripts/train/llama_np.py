"""Numpy-only pieces shared by train.py and hf_to_gguf.py (no torch needed).

- read/write safetensors (8-byte little-endian header length, JSON header,
  raw little-endian data; F32, F16, BF16 read, F32/F16 written);
- read a GGUF (metadata and tensors, dequantized with gguf_writer);
- two float64 Llama forward passes that must agree:
    forward_hf:   Hugging Face names and RoPE layout (rotate_half: dimension i
                  pairs with i + head_dim/2, as LlamaForCausalLM does);
    forward_gguf: GGUF names and llama.cpp's normal RoPE (dimension 2i pairs
                  with 2i+1), on Q/K weights permuted as convert_hf_to_gguf
                  permutes them.
  Both use RMSNorm with eps from the config, GQA (query head j reads kv head
  j // (heads / kv_heads)), SwiGLU, and a tied or untied output.
"""

import json
import math
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gguf_writer as gw  # noqa: E402

# ---------------------------------------------------------------- safetensors

_ST_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I32": "<i4", "I64": "<i8"}


def read_safetensors(path):
    """{name: float32 numpy array} (integer tensors keep their type)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack_from("<Q", buf, 0)
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = buf[base + a: base + b]
        shape = tuple(info["shape"])
        dt = info["dtype"]
        if dt == "BF16":
            u = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        elif dt in _ST_DTYPES:
            arr = np.frombuffer(raw, _ST_DTYPES[dt])
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {dt}")
        arr = arr.reshape(shape)
        out[name] = arr.astype(np.float32) if arr.dtype.kind == "f" else arr.copy()
    return out


def read_hf_weights(hf_dir):
    """Weights of a Hugging Face folder: model.safetensors or the shards
    listed in model.safetensors.index.json."""
    single = os.path.join(hf_dir, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors(single)
    index = os.path.join(hf_dir, "model.safetensors.index.json")
    if not os.path.exists(index):
        raise FileNotFoundError(f"{hf_dir}: no model.safetensors or model.safetensors.index.json")
    shards = sorted(set(json.load(open(index))["weight_map"].values()))
    out = {}
    for s in shards:
        out.update(read_safetensors(os.path.join(hf_dir, s)))
    return out


def write_safetensors(path, tensors, dtype="F16", metadata=None):
    """tensors: {name: float array}; written in name order as F16 or F32,
    with {"format": "pt"} metadata (transformers wants it)."""
    np_dt = {"F16": "<f2", "F32": "<f4"}[dtype]
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name], dtype=np_dt).tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(tensors[name])),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    meta = {"format": "pt"}
    meta.update(metadata or {})
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# ---------------------------------------------------------------- GGUF reader

# The reader lives beside the writer; kept here under its old name.
read_gguf = gw.read_gguf


def config_from_gguf_meta(meta):
    a = "llama."
    return dict(dim=meta[a + "embedding_length"], layers=meta[a + "block_count"],
                heads=meta[a + "attention.head_count"], kv_heads=meta[a + "attention.head_count_kv"],
                ffn=meta[a + "feed_forward_length"], rope_base=meta[a + "rope.freq_base"],
                eps=meta[a + "attention.layer_norm_rms_epsilon"], ctx=meta[a + "context_length"],
                vocab=len(meta["tokenizer.ggml.tokens"]))


def config_from_hf(hf_cfg):
    rope = hf_cfg.get("rope_theta")
    if rope is None:
        rope = (hf_cfg.get("rope_parameters") or {}).get("rope_theta", 10000.0)
    heads = hf_cfg["num_attention_heads"]
    return dict(dim=hf_cfg["hidden_size"], layers=hf_cfg["num_hidden_layers"], heads=heads,
                kv_heads=hf_cfg.get("num_key_value_heads") or heads, ffn=hf_cfg["intermediate_size"],
                rope_base=float(rope), eps=float(hf_cfg.get("rms_norm_eps", 1e-6)),
                ctx=hf_cfg.get("max_position_embeddings", 2048), vocab=hf_cfg["vocab_size"],
                tied=bool(hf_cfg.get("tie_word_embeddings", False)))


# ---------------------------------------------------------------- forward passes

def _rms(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def _angles(n, hd, base):
    inv = float(base) ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    return np.arange(n, dtype=np.float64)[:, None] * inv[None, :]  # [n, hd/2]


def rope_half(x, ang):
    """HF rotate_half layout: x [n, heads, hd]; dimension i pairs with i+hd/2."""
    h = x.shape[-1] // 2
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    a, b = x[..., :h], x[..., h:]
    return np.concatenate([a * c - b * s, b * c + a * s], axis=-1)


def rope_pairs(x, ang):
    """llama.cpp LLAMA_ROPE_TYPE_NORM: dimension 2i pairs with 2i+1."""
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * c - b * s
    out[..., 1::2] = a * s + b * c
    return out


def _forward(get, cfg, tokens, rope, names):
    d, H, KV = cfg["dim"], cfg["heads"], cfg["kv_heads"]
    hd = d // H
    eps = cfg.get("eps", 1e-5)
    n = len(tokens)
    ang = _angles(n, hd, cfg["rope_base"])
    mask = np.triu(np.full((n, n), -np.inf), 1)
    emb = get(names["embd"])
    x = emb[np.asarray(tokens)].astype(np.float64)
    rep = H // KV
    for i in range(cfg["layers"]):
        g = lambda k: get(names[k].format(i))  # noqa: E731
        h = _rms(x, g("attn_norm"), eps)
        q = rope((h @ g("q").T).reshape(n, H, hd), ang)
        k = rope((h @ g("k").T).reshape(n, KV, hd), ang)
        v = (h @ g("v").T).reshape(n, KV, hd)
        k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
        att = np.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd) + mask
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = np.einsum("hqk,khd->qhd", att, v).reshape(n, d)
        x = x + o @ g("o").T
        h = _rms(x, g("ffn_norm"), eps)
        gate = h @ g("gate").T
        x = x + ((gate / (1 + np.exp(-gate))) * (h @ g("up").T)) @ g("down").T
    x = _rms(x, get(names["norm"]), eps)
    out = get(names["out"]) if names["out"] is not None else emb
    return x @ out.T.astype(np.float64)


HF_NAMES = dict(
    embd="model.embed_tokens.weight", norm="model.norm.weight",
    attn_norm="model.layers.{}.input_layernorm.weight", q="model.layers.{}.self_attn.q_proj.weight",
    k="model.layers.{}.self_attn.k_proj.weight", v="model.layers.{}.self_attn.v_proj.weight",
    o="model.layers.{}.self_attn.o_proj.weight", ffn_norm="model.layers.{}.post_attention_layernorm.weight",
    gate="model.layers.{}.mlp.gate_proj.weight", up="model.layers.{}.mlp.up_proj.weight",
    down="model.layers.{}.mlp.down_proj.weight")
GGUF_NAMES = dict(
    embd="token_embd.weight", norm="output_norm.weight",
    attn_norm="blk.{}.attn_norm.weight", q="blk.{}.attn_q.weight", k="blk.{}.attn_k.weight",
    v="blk.{}.attn_v.weight", o="blk.{}.attn_output.weight", ffn_norm="blk.{}.ffn_norm.weight",
    gate="blk.{}.ffn_gate.weight", up="blk.{}.ffn_up.weight", down="blk.{}.ffn_down.weight")


def forward_hf(W, cfg, tokens):
    """Logits [n, vocab] (float64) from HF-named weights, position 0 on."""
    names = dict(HF_NAMES, out=None if "lm_head.weight" not in W else "lm_head.weight")
    return _forward(lambda k: W[k].astype(np.float64), cfg, tokens, rope_half, names)


def forward_gguf(W, cfg, tokens):
    """Logits [n, vocab] (float64) from GGUF-named (dequantized) weights."""
    names = dict(GGUF_NAMES, out="output.weight" if "output.weight" in W else None)
    return _forward(lambda k: W[k].astype(np.float64), cfg, tokens, rope_pairs, names)
