#!/usr/bin/python3
"""Converts a Hugging Face Llama folder (model.safetensors + config.json +
tokenizer.json [+ tokenizer_config.json]) with a byte-level BPE tokenizer
into a GGUF file the way llama.cpp's convert_hf_to_gguf.py does for
LlamaForCausalLM, with numpy only (no torch, no transformers, no gguf-py).

  hf_to_gguf.py HF_DIR OUT.gguf [--type f32|f16|q8_0|q4_0] [--pre gpt-2]
                [--name NAME] [--check]

- Tensors get llama.cpp's names; Q and K rows are permuted as
  convert_hf_to_gguf's LlamaModel.permute does (reshape(n_head, 2,
  head_dim/2, dim).swapaxes(1, 2)), K with the kv head count, so that GGUF's
  normal-mode RoPE (pairs 2i, 2i+1) computes what HF's rotate_half RoPE
  (pairs i, i+head_dim/2) computes.
- 1-D tensors (norms) are F32; matrices are --type (a matrix whose rows are
  not a multiple of 32 falls back to F16 for the quantized types).
- Tied models (tie_word_embeddings, or no lm_head.weight) get no
  output.weight: llama.cpp reuses token_embd.
- Tokenizer: tokenizer.ggml.model "gpt2", tokenizer.ggml.pre (--pre, default
  "gpt-2": the GPT-2 regex of HF's ByteLevel pre-tokenizer with use_regex),
  tokens as in tokenizer.json's vocab (byte-level unicode strings), token_type
  (1 normal, 3 control for special added tokens, 4 user-defined for other
  added tokens, 5 unused for ids without a token), merges as "a b" strings,
  bos/eos ids from tokenizer_config.json, add_bos_token/add_eos_token from
  tokenizer_config.json or else from the TemplateProcessing post-processor.
--check: runs a float64 forward pass of the HF weights (rotate_half RoPE)
  and of the written GGUF (dequantized, pair RoPE) on a fixed token sequence
  and prints the largest logit difference (about 1e-12 for f32/f16 when the
  weights are f16-exact; the quantization error for q8_0/q4_0).
"""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import gguf_writer as gw  # noqa: E402
import llama_np  # noqa: E402

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def permute(w, n_head, n_head_kv):
    """convert_hf_to_gguf.py LlamaModel.permute."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2)
            .reshape(w.shape))


def looks_special(tok):
    # convert_hf_to_gguf's does_token_look_special
    return (tok in ("<pad>", "<mask>", "<2mass>", "[@BOS@]")
            or (tok.startswith("<|") and tok.endswith("|>"))
            or (tok.startswith("<\uff5c") and tok.endswith("\uff5c>"))
            or (tok.startswith("<unused") and tok.endswith(">")))


def load_tokenizer(hf_dir):
    tj = json.load(open(os.path.join(hf_dir, "tokenizer.json"), encoding="utf-8"))
    p = os.path.join(hf_dir, "tokenizer_config.json")
    tc = json.load(open(p, encoding="utf-8")) if os.path.exists(p) else {}
    return tj, tc


def gguf_vocab(tj, tc, n_vocab=None):
    """tokens, token types, merges, and the special-token fields (a dict of
    GGUF key suffix -> value) of a byte-level BPE tokenizer.json."""
    m = tj["model"]
    if m.get("type") != "BPE" or m.get("byte_fallback"):
        raise ValueError("only byte-level BPE tokenizer.json models (type BPE, no byte_fallback) are supported")
    vocab = dict(m["vocab"])
    added = {t["id"]: t for t in tj.get("added_tokens", [])}
    for i, t in added.items():
        vocab[t["content"]] = i
    n = max(vocab.values()) + 1
    if n_vocab is not None:
        if n_vocab < n:
            raise ValueError(f"config vocab_size {n_vocab} is smaller than the tokenizer's {n} ids")
        n = n_vocab
    rev = {i: tok for tok, i in vocab.items()}
    tokens, types = [], []
    for i in range(n):
        if i not in rev:
            tokens.append(f"[PAD{i}]")
            types.append(UNUSED)
        elif i in added:
            tokens.append(rev[i])
            types.append(CONTROL if added[i].get("special") or looks_special(rev[i]) else USER_DEFINED)
        else:
            tokens.append(rev[i])
            types.append(NORMAL)
    merges = [" ".join(x) if isinstance(x, (list, tuple)) else x for x in m["merges"]]

    def token_id(field):
        v = tc.get(field)
        if isinstance(v, dict):
            v = v.get("content")
        return vocab.get(v) if isinstance(v, str) else None

    special = {}
    for field, key in (("bos_token", "bos_token_id"), ("eos_token", "eos_token_id"),
                       ("unk_token", "unknown_token_id"), ("pad_token", "padding_token_id")):
        i = token_id(field)
        if i is not None:
            special[key] = i
    # add_bos/add_eos: tokenizer_config.json, else what the post-processor does.
    tmpl = tj.get("post_processor") or {}
    single = tmpl.get("single") if tmpl.get("type") == "TemplateProcessing" else None
    for field, pos in (("add_bos_token", 0), ("add_eos_token", -1)):
        if isinstance(tc.get(field), bool):
            special[field] = tc[field]
        elif single:
            piece = single[pos]
            tid = special.get("bos_token_id" if pos == 0 else "eos_token_id")
            is_special = "SpecialToken" in piece and vocab.get(piece["SpecialToken"]["id"]) == tid
            special[field] = bool(is_special and tid is not None)
    return tokens, types, merges, special


TENSOR_MAP = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def gguf_tensors(W, cfg):
    """[(gguf name, float32 array)] in llama.cpp's order, Q/K permuted."""
    H, KV = cfg["heads"], cfg["kv_heads"]
    out = [("token_embd.weight", W["model.embed_tokens.weight"])]
    for i in range(cfg["layers"]):
        p = f"model.layers.{i}."
        for hf, gg in TENSOR_MAP.items():
            w = W[p + hf]
            if hf.startswith("self_attn.q_proj"):
                w = permute(w, H, H)
            elif hf.startswith("self_attn.k_proj"):
                w = permute(w, H, KV)
            out.append((f"blk.{i}.{gg}", w))
    out.append(("output_norm.weight", W["model.norm.weight"]))
    if not cfg["tied"]:
        out.append(("output.weight", W["lm_head.weight"]))
    known = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"}
    known |= {f"model.layers.{i}.{hf}" for i in range(cfg["layers"]) for hf in TENSOR_MAP}
    extra = [k for k in W if k not in known and not k.endswith("rotary_emb.inv_freq")]
    if extra:
        raise ValueError(f"tensors this converter does not know: {extra[:5]}")
    return out


def convert(hf_dir, out_path, outtype="q8_0", pre="gpt-2", name=None, W=None, quiet=False):
    """Writes OUT_PATH; returns (cfg, W) with W the HF float32 weights."""
    hf_cfg = json.load(open(os.path.join(hf_dir, "config.json")))
    cfg = llama_np.config_from_hf(hf_cfg)
    if W is None:
        W = llama_np.read_hf_weights(hf_dir)
    if "lm_head.weight" not in W:
        cfg["tied"] = True
    tj, tc = load_tokenizer(hf_dir)
    tokens, types, merges, special = gguf_vocab(tj, tc, cfg["vocab"])
    mtype = gw.ggml_type(outtype)
    d, H = cfg["dim"], cfg["heads"]
    if d % H or (d // H) % 2 or H % cfg["kv_heads"]:
        raise ValueError("hidden_size must split into heads of even size, heads into kv heads")
    if hf_cfg.get("head_dim") not in (None, d // H):
        raise ValueError("head_dim other than hidden_size / heads is not supported")
    if hf_cfg.get("rope_scaling") or (hf_cfg.get("rope_parameters") or {}).get("rope_type", "default") != "default":
        raise ValueError("only default RoPE (no rope scaling) is supported")

    w = gw.GGUFWriter(out_path)
    w.add_string("general.architecture", "llama")
    w.add_string("general.name", name or os.path.basename(os.path.normpath(hf_dir)))
    w.add_u32("general.file_type", gw.FILE_TYPE[mtype])
    w.add_u32("general.quantization_version", 2)
    w.add_u32("llama.context_length", cfg["ctx"])
    w.add_u32("llama.embedding_length", d)
    w.add_u32("llama.block_count", cfg["layers"])
    w.add_u32("llama.feed_forward_length", cfg["ffn"])
    w.add_u32("llama.attention.head_count", H)
    w.add_u32("llama.attention.head_count_kv", cfg["kv_heads"])
    w.add_f32("llama.rope.freq_base", cfg["rope_base"])
    w.add_f32("llama.attention.layer_norm_rms_epsilon", cfg["eps"])
    w.add_u32("llama.rope.dimension_count", d // H)
    w.add_u32("llama.vocab_size", len(tokens))
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", pre)
    w.add_array("tokenizer.ggml.tokens", tokens, gw.STRING)
    w.add_array("tokenizer.ggml.token_type", types, gw.INT32)
    w.add_array("tokenizer.ggml.merges", merges, gw.STRING)
    for key in ("bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id"):
        if key in special:
            w.add_u32("tokenizer.ggml." + key, special[key])
    for key in ("add_bos_token", "add_eos_token"):
        if key in special:
            w.add_bool("tokenizer.ggml." + key, special[key])

    fallback = []
    for gname, arr in gguf_tensors(W, cfg):
        arr = np.asarray(arr, dtype=np.float32)
        t = gw.GGML_F32 if arr.ndim == 1 else mtype
        if t in (gw.GGML_Q8_0, gw.GGML_Q4_0) and arr.shape[-1] % gw.QK:
            t = gw.GGML_F16
            fallback.append(gname)
        w.add_tensor(gname, arr, t)
    w.write()
    if not quiet:
        print(f"{out_path}: {outtype}, {len(w.tensors)} tensors, {len(tokens)} tokens, "
              f"{len(merges)} merges, {os.path.getsize(out_path)} bytes"
              + (f"; F16 fallback for {fallback}" if fallback else ""))
    return cfg, W


def check(out_path, cfg, W, tokens):
    """Largest |logit| difference between the HF-layout forward pass of W and
    the GGUF-layout forward pass of the file, and the top-1 agreement."""
    _, G = llama_np.read_gguf(out_path)
    a = llama_np.forward_hf(W, cfg, tokens)
    b = llama_np.forward_gguf(G, cfg, tokens)
    return float(np.max(np.abs(a - b))), float(np.mean(a.argmax(-1) == b.argmax(-1))), a, b


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("hf_dir")
    ap.add_argument("out")
    ap.add_argument("--type", default="q8_0", choices=["f32", "f16", "q8_0", "q4_0"])
    ap.add_argument("--pre", default="gpt-2", help="tokenizer.ggml.pre (default gpt-2)")
    ap.add_argument("--name", help="general.name (default: the folder's name)")
    ap.add_argument("--check", action="store_true", help="compare float64 forward passes of both layouts")
    a = ap.parse_args()
    cfg, W = convert(a.hf_dir, a.out, a.type, a.pre, a.name)
    if a.check:
        rng = np.random.default_rng(0)
        toks = rng.integers(0, cfg["vocab"], 48)
        diff, agree, ref, _ = check(a.out, cfg, W, toks)
        print(f"check: {len(toks)} positions, max |logit| {np.max(np.abs(ref)):.3f}, "
              f"max |HF - GGUF| {diff:.3g}, top-1 agreement {agree:.3f}")


if __name__ == "__main__":
    main()
