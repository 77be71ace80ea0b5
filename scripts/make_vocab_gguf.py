#!/usr/bin/env python3
"""Writes a vocabulary-only GGUF (v3, no tensors) from a Hugging Face
tokenizer.json, laid out the way llama.cpp's convert_hf_to_gguf.py lays out
the tokenizer, so that llama.cpp (vocab_only) and wgpt read the same thing.

  make_vocab_gguf.py TOKENIZER_DIR OUT.gguf [--model gpt2|llama] [--pre NAME]
                     [--add-space-prefix true|false] [--name NAME]

TOKENIZER_DIR holds tokenizer.json (and optionally tokenizer_config.json).
--model gpt2: byte-level BPE (tokens, token types, merges), as
  convert_hf_to_gguf's get_vocab_base does it: added tokens are CONTROL when
  special or special-looking, else USER_DEFINED; ids without a token become
  "[PAD<id>]" UNUSED.
--model llama: SentencePiece-style from a BPE-with-byte-fallback
  tokenizer.json (Gemma, Llama 2): tokens with scores and types, "<0xXX>" as
  BYTE, the unknown token as UNKNOWN, added tokens CONTROL/USER_DEFINED with
  score -1000 as _set_vocab_sentencepiece does. tokenizer.json carries no
  piece scores, so a normal token scores -id: SentencePiece orders normal
  pieces by falling score, and both tokenizers read the same numbers anyway.
Default --model: llama when the model uses byte fallback, else gpt2.
--model gpt2 on a byte-fallback tokenizer.json (Gemma 3) writes what
  convert_hf_to_gguf's _set_vocab_gpt2 writes for a folder without
  tokenizer.model: "<0xXX>" stay NORMAL tokens, the added ones ("\n" runs,
  U+2581 runs stored as spaces, <unusedN>) USER_DEFINED or CONTROL; give it
  --pre granite-embed-multi-311m, the name the converter's hash table finds.
"""
import argparse
import json
import os
import struct
import sys

GGUF_MAGIC = b"GGUF"
T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR = 4, 5, 6, 7, 8, 9
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def s_bytes(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


class Writer:
    def __init__(self):
        self.kv = []

    def add(self, key, typ, payload):
        self.kv.append(s_bytes(key) + struct.pack("<I", typ) + payload)

    def u32(self, key, v):
        self.add(key, T_U32, struct.pack("<I", v))

    def f32(self, key, v):
        self.add(key, T_F32, struct.pack("<f", v))

    def boolean(self, key, v):
        self.add(key, T_BOOL, struct.pack("<B", 1 if v else 0))

    def string(self, key, v):
        self.add(key, T_STR, s_bytes(v))

    def arr_str(self, key, items):
        self.add(key, T_ARR, struct.pack("<IQ", T_STR, len(items)) + b"".join(s_bytes(x) for x in items))

    def arr_i32(self, key, items):
        self.add(key, T_ARR, struct.pack("<IQ", T_I32, len(items)) + struct.pack("<%di" % len(items), *items))

    def arr_f32(self, key, items):
        self.add(key, T_ARR, struct.pack("<IQ", T_F32, len(items)) + struct.pack("<%df" % len(items), *items))

    def write(self, path):
        out = GGUF_MAGIC + struct.pack("<IQQ", 3, 0, len(self.kv)) + b"".join(self.kv)
        out += b"\0" * (-len(out) % 32)  # the (empty) data section starts aligned
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(out)
        os.replace(tmp, path)


def looks_special(tok):
    # convert_hf_to_gguf's does_token_look_special
    return (tok in ("<pad>", "<mask>", "<2mass>", "[@BOS@]")
            or (tok.startswith("<|") and tok.endswith("|>"))
            or (tok.startswith("<\uff5c") and tok.endswith("\uff5c>"))
            or (tok.startswith("<unused") and tok.endswith(">")))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tokenizer_dir")
    ap.add_argument("out")
    ap.add_argument("--model", choices=["gpt2", "llama"])
    ap.add_argument("--pre", help="tokenizer.ggml.pre (gpt2 only)")
    ap.add_argument("--add-space-prefix", choices=["true", "false"],
                    help="write tokenizer.ggml.add_space_prefix (absent: llama.cpp's default)")
    ap.add_argument("--name", default="vocab")
    a = ap.parse_args()

    tj = json.load(open(os.path.join(a.tokenizer_dir, "tokenizer.json"), encoding="utf-8"))
    cfg_path = os.path.join(a.tokenizer_dir, "tokenizer_config.json")
    cfg = json.load(open(cfg_path, encoding="utf-8")) if os.path.exists(cfg_path) else {}
    m = tj["model"]
    if m.get("type") != "BPE":
        sys.exit("make_vocab_gguf: only BPE tokenizer.json models are supported, not %r" % m.get("type"))
    model = a.model or ("llama" if m.get("byte_fallback") else "gpt2")

    vocab = dict(m["vocab"])
    added = {t["id"]: t for t in tj.get("added_tokens", [])}
    for i, t in added.items():
        vocab[t["content"]] = i
    n = max(vocab.values()) + 1
    rev = {}
    for tok, i in vocab.items():
        rev[i] = tok

    tokens, types, scores = [], [], []
    for i in range(n):
        if i not in rev:
            tokens.append("[PAD%d]" % i)
            types.append(UNUSED)
            scores.append(-1000.0)
            continue
        tok = rev[i]
        if i in added:
            if added[i]["special"] or looks_special(tok):
                types.append(CONTROL)
            else:
                tok = tok.replace("\u2581", " ")  # user-defined spaces are stored pre-normalized
                types.append(USER_DEFINED)
            scores.append(-1000.0)
        elif model == "llama" and len(tok) == 6 and tok.startswith("<0x") and tok.endswith(">"):
            types.append(BYTE)
            scores.append(0.0)
        elif model == "llama" and tok == m.get("unk_token"):
            types.append(UNKNOWN)
            scores.append(0.0)
        else:
            types.append(NORMAL)
            scores.append(-float(i))
        tokens.append(tok)

    def token_id(field):
        v = cfg.get(field)
        if isinstance(v, dict):
            v = v.get("content")
        return vocab.get(v) if isinstance(v, str) else None

    w = Writer()
    w.string("general.architecture", "llama")
    w.string("general.name", a.name)
    # just enough hyperparameters for a llama model header; vocab_only never reads tensors
    w.u32("llama.vocab_size", n)
    w.u32("llama.context_length", 4096)
    w.u32("llama.embedding_length", 64)
    w.u32("llama.block_count", 1)
    w.u32("llama.feed_forward_length", 128)
    w.u32("llama.attention.head_count", 1)
    w.u32("llama.attention.head_count_kv", 1)
    w.u32("llama.rope.dimension_count", 64)
    w.f32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.string("tokenizer.ggml.model", model)
    if model == "gpt2":
        w.string("tokenizer.ggml.pre", a.pre or "default")
    w.arr_str("tokenizer.ggml.tokens", tokens)
    if model == "llama":
        w.arr_f32("tokenizer.ggml.scores", scores)
    w.arr_i32("tokenizer.ggml.token_type", types)
    if model == "gpt2":
        # gguf-py's SpecialVocab: a pair's own spaces become U+0120, so that the
        # joining space stays the only one
        merges = [" ".join(p.replace(" ", "\u0120") for p in x) if isinstance(x, list) else x
                  for x in m["merges"]]
        w.arr_str("tokenizer.ggml.merges", merges)
    for field, key in (("bos_token", "bos_token_id"), ("eos_token", "eos_token_id"),
                       ("unk_token", "unknown_token_id"), ("pad_token", "padding_token_id")):
        i = token_id(field)
        if i is not None:
            w.u32("tokenizer.ggml." + key, i)
    for field in ("add_bos_token", "add_eos_token"):
        if isinstance(cfg.get(field), bool):
            w.boolean("tokenizer.ggml." + field, cfg[field])
    if a.add_space_prefix is not None:
        w.boolean("tokenizer.ggml.add_space_prefix", a.add_space_prefix == "true")
    w.write(a.out)


if __name__ == "__main__":
    main()
