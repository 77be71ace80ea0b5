#!/usr/bin/python3
"""Writes a tiny Hugging Face model folder, and the GGUF form of the same
weights, from a tiny GGUF (scripts/make_tiny_llama.py, make_tiny_qwen.py):
the folder is what transformers' save_pretrained writes (config.json with
each architecture's real field names, model.safetensors written by hand
with numpy, or shards with model.safetensors.index.json, tokenizer.json,
tokenizer_config.json, generation_config.json), the GGUF form is what
llama.cpp's convert_hf_to_gguf.py would make of that folder, written with
llama.cpp's own gguf-py (scripts/llamacpp_src.py). Torch is not needed.

  make_tiny_hf.py --from SRC.gguf --out DIR [--dtype f32|f16|bf16] [--shards N]
      [--gguf-out FORM.gguf] [--rope-scaling llama3] [--webgpt DIR2] [--vocab-merges]

The folder's tensors are the source's, taken back to HF's layout (the
inverse of the converter's transforms, done here in numpy: Llama's Q/K
rows from interleaved RoPE pairs back to rotate-half order, Gemma 3's
norms - 1, GPT-2's Conv1D weights transposed to [in, out]) and stored in
--dtype. The GGUF form applies the converter's transforms to those stored
values again (its permute, + 1 in f32, the transpose), keeps matrices in
--dtype and 1-D tensors in F32 (as the converter does), and copies the
source's metadata. --rope-scaling llama3 adds Llama 3's rope_scaling to
config.json and the rope_freqs tensor the converter computes from it to
the GGUF form. --webgpt also writes a GPT-2 source in WebGPT's layout
(params_gpt.json, <name>_gpt.bin f32, [out][in] matrices).

The tokenizer is the source's vocabulary as tokenizer.json: byte-level BPE
(GGUF "gpt2") with its merges and pre-tokenizer regex, or SentencePiece
(GGUF "llama") as transformers' Llama 2 tokenizer.json (BPE with byte
fallback, merges ordered by score as tokenizers' SentencePieceExtractor).
"""

import argparse
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llamacpp_src  # noqa: E402

gguf = llamacpp_src.import_gguf()

QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
               r"\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")
GPT2_REGEX = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"

CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
LLAMA2_TEMPLATE = ("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
                   "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ ' ' + message['content'] + "
                   "eos_token }}{% endif %}{% endfor %}")


def fields_of(r):
    out = {}
    for f in r.fields.values():
        if f.name.startswith("GGUF."):
            continue
        out[f.name] = f
    return out


def val(fields, key, default=None):
    f = fields.get(key)
    return default if f is None else f.contents()


# ---- names: GGUF -> HF (the inverse of src/formats/hf_names.c's tables) ----

def hf_name(arch, name):
    if arch == "gpt2":
        fixed = {"token_embd.weight": "wte.weight", "position_embd.weight": "wpe.weight",
                 "output_norm.weight": "ln_f.weight", "output_norm.bias": "ln_f.bias", "output.weight": "lm_head.weight"}
        if name in fixed:
            return fixed[name]
        _, bid, rest = name.split(".", 2)
        per = {"attn_norm": "ln_1", "attn_qkv": "attn.c_attn", "attn_output": "attn.c_proj", "ffn_norm": "ln_2",
               "ffn_up": "mlp.c_fc", "ffn_down": "mlp.c_proj"}
        base, suffix = rest.rsplit(".", 1)
        return f"h.{bid}.{per[base]}.{suffix}"
    fixed = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    if name in fixed:
        return fixed[name]
    _, bid, rest = name.split(".", 2)
    base, suffix = rest.rsplit(".", 1)
    per = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
           "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "attn_q_norm": "self_attn.q_norm",
           "attn_k_norm": "self_attn.k_norm", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
           "ffn_down": "mlp.down_proj", "ffn_norm": "post_attention_layernorm"}
    if arch == "gemma3":
        per.update({"post_attention_norm": "post_attention_layernorm", "ffn_norm": "pre_feedforward_layernorm",
                    "post_ffw_norm": "post_feedforward_layernorm"})
    return f"model.layers.{bid}.{per[base]}.{suffix}"


def permute(w, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute (HF -> GGUF)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, n_head):
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def to_hf(arch, name, x, heads, kv_heads):
    if arch == "llama" and ".attn_q." in name:
        return unpermute(x, heads)
    if arch == "llama" and ".attn_k." in name:
        return unpermute(x, kv_heads)
    if arch == "gemma3" and name.endswith("norm.weight"):
        return x - 1
    if arch == "gpt2" and x.ndim == 2 and any(k in name for k in ("attn_qkv", "attn_output", "ffn_up", "ffn_down")):
        return np.ascontiguousarray(x.T)
    return x


def to_gguf(arch, hfname, x, heads, kv_heads):
    """The converter's modify_tensors on a stored HF tensor (x as f32)."""
    if arch == "llama" and ("q_proj." in hfname):
        return permute(x, heads)
    if arch == "llama" and ("k_proj." in hfname):
        return permute(x, kv_heads)
    if arch == "gemma3" and hfname.endswith("norm.weight"):
        return x + 1
    if arch == "gpt2" and hfname.endswith((".c_attn.weight", ".c_proj.weight", ".c_fc.weight")):
        return np.ascontiguousarray(x.T)
    return x


# ---- dtypes ----

def bf16_bits(x):
    """f32 -> bf16 bits, round to nearest even (torch's and ggml's)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(x)
    r[nan] = ((u[nan] >> 16) | 64).astype(np.uint16)
    return r


def store(x, dtype):
    """(raw bytes as numpy, the values as f32) of x stored in dtype."""
    x = np.asarray(x, dtype=np.float32)
    if dtype == "f32":
        return x, x
    if dtype == "f16":
        h = x.astype(np.float16)
        return h, h.astype(np.float32)
    b = bf16_bits(x)
    return b, (b.astype(np.uint32) << 16).view(np.float32).reshape(x.shape)


ST_DTYPE = {"f32": "F32", "f16": "F16", "bf16": "BF16"}


def write_safetensors(path, tensors):
    """tensors: [(name, raw numpy array, dtype)] in order."""
    header, blobs, off = {}, [], 0
    for name, raw, dt in tensors:
        b = np.ascontiguousarray(raw).tobytes()
        header[name] = {"dtype": ST_DTYPE[dt], "shape": list(raw.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---- tokenizer ----

def tokenizer_files(fields):
    model = val(fields, "tokenizer.ggml.model")
    tokens = val(fields, "tokenizer.ggml.tokens")
    types = val(fields, "tokenizer.ggml.token_type")
    bos = val(fields, "tokenizer.ggml.bos_token_id")
    eos = val(fields, "tokenizer.ggml.eos_token_id")
    add_bos = bool(val(fields, "tokenizer.ggml.add_bos_token", model == "llama"))
    control = [i for i, t in enumerate(types) if t == gguf.TokenType.CONTROL]
    added = [{"id": i, "content": tokens[i], "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i in control]
    if model == "gpt2":
        pre = val(fields, "tokenizer.ggml.pre", "gpt2")
        regex = {"qwen2": QWEN2_REGEX, "llama-bpe": LLAMA3_REGEX}.get(pre, GPT2_REGEX)
        merges = val(fields, "tokenizer.ggml.merges")
        tok = {
            "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "NFC"} if pre == "qwen2" else None,
            # GPT-2's own file: ByteLevel with its built-in regex; later models: their Split, then ByteLevel
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
            if regex == GPT2_REGEX else {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": {t: i for i, t in enumerate(tokens) if i not in set(control)},
                      "merges": merges},
        }
        cfg = {"add_bos_token": add_bos, "add_prefix_space": False, "bos_token": None,
               "eos_token": tokens[eos] if eos is not None else None, "chat_template": CHATML,
               "clean_up_tokenization_spaces": False, "model_max_length": 1024, "tokenizer_class": "Qwen2Tokenizer",
               "added_tokens_decoder": {str(a["id"]): a for a in added}}
    else:
        scores = val(fields, "tokenizer.ggml.scores")
        vocab = {t: i for i, t in enumerate(tokens)}
        normal = {t: scores[i] for i, t in enumerate(tokens) if types[i] == gguf.TokenType.NORMAL}
        merges = []
        for piece, score in normal.items():
            local = [(piece[:k], piece[k:], score) for k in range(1, len(piece))
                     if piece[:k] in normal and piece[k:] in normal]
            merges += sorted(local, key=lambda m: (vocab[m[0]], vocab[m[1]]))
        merges.sort(key=lambda m: m[2], reverse=True)
        unk = val(fields, "tokenizer.ggml.unknown_token_id", 0)
        prefix = bool(val(fields, "tokenizer.ggml.add_space_prefix", True))
        specials = sorted(set(control) | {unk})
        added = [{"id": i, "content": tokens[i], "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": True} for i in specials]
        tok = {
            "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "Sequence", "normalizers": ([{"type": "Prepend", "prepend": "\u2581"}] if prefix else []) +
                           [{"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
            "pre_tokenizer": None,
            "post_processor": {"type": "TemplateProcessing",
                               "single": [{"SpecialToken": {"id": tokens[bos], "type_id": 0}},
                                          {"Sequence": {"id": "A", "type_id": 0}}],
                               "pair": [{"SpecialToken": {"id": tokens[bos], "type_id": 0}},
                                        {"Sequence": {"id": "A", "type_id": 0}},
                                        {"SpecialToken": {"id": tokens[bos], "type_id": 1}},
                                        {"Sequence": {"id": "B", "type_id": 1}}],
                               "special_tokens": {tokens[bos]: {"id": tokens[bos], "ids": [bos], "tokens": [tokens[bos]]}}},
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
                {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
            "model": {"type": "BPE", "dropout": None, "unk_token": tokens[unk], "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                      "vocab": vocab, "merges": [f"{a} {b}" for a, b, _ in merges]},
        }
        cfg = {"add_bos_token": add_bos, "add_eos_token": False, "bos_token": tokens[bos], "eos_token": tokens[eos],
               "unk_token": tokens[unk], "chat_template": LLAMA2_TEMPLATE, "clean_up_tokenization_spaces": False,
               "legacy": False, "model_max_length": 1024, "tokenizer_class": "LlamaTokenizer" if prefix else "GemmaTokenizer",
               "added_tokens_decoder": {str(a["id"]): a for a in added}}
    gen = {"bos_token_id": bos, "eos_token_id": eos}
    return tok, cfg, gen


# ---- config.json ----

def config_of(arch, fields, n_vocab, tied, rope_scaling):
    g = lambda k, d=None: val(fields, f"{arch}.{k}", d)  # noqa: E731
    f32 = lambda v: float(np.float32(v))  # noqa: E731
    bos, eos = val(fields, "tokenizer.ggml.bos_token_id"), val(fields, "tokenizer.ggml.eos_token_id")
    if arch == "gpt2":
        return {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
                "n_ctx": g("context_length"), "n_positions": g("context_length"), "n_embd": g("embedding_length"),
                "n_head": g("attention.head_count"), "n_layer": g("block_count"), "n_inner": None,
                "layer_norm_epsilon": f32(g("attention.layer_norm_epsilon")), "vocab_size": n_vocab,
                "bos_token_id": bos, "eos_token_id": eos, "tie_word_embeddings": True, "torch_dtype": "float32"}
    names = {"llama": ("LlamaForCausalLM", "llama"), "qwen2": ("Qwen2ForCausalLM", "qwen2"),
             "qwen3": ("Qwen3ForCausalLM", "qwen3"), "gemma3": ("Gemma3ForCausalLM", "gemma3_text")}
    c = {"architectures": [names[arch][0]], "model_type": names[arch][1],
         "hidden_size": g("embedding_length"), "intermediate_size": g("feed_forward_length"),
         "num_hidden_layers": g("block_count"), "num_attention_heads": g("attention.head_count"),
         "num_key_value_heads": g("attention.head_count_kv", g("attention.head_count")),
         "max_position_embeddings": g("context_length"), "rms_norm_eps": f32(g("attention.layer_norm_rms_epsilon")),
         "rope_theta": f32(g("rope.freq_base", 10000.0)), "vocab_size": n_vocab, "tie_word_embeddings": tied,
         "bos_token_id": bos, "eos_token_id": eos, "hidden_act": "silu", "attention_bias": arch == "qwen2",
         "torch_dtype": "float32"}
    if g("attention.key_length") is not None:
        c["head_dim"] = g("attention.key_length")
    if arch == "qwen2":
        c.update({"use_sliding_window": False, "sliding_window": 4096, "max_window_layers": c["num_hidden_layers"]})
    if arch == "gemma3":
        hd = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
        c.update({"hidden_activation": "gelu_pytorch_tanh", "query_pre_attn_scalar": hd,
                  "sliding_window": g("attention.sliding_window"), "rope_local_base_freq": f32(g("rope.freq_base_swa", 10000.0)),
                  "layer_types": ["sliding_attention" if i % 6 < 5 else "full_attention" for i in range(c["num_hidden_layers"])],
                  "final_logit_softcapping": g("final_logit_softcapping"), "attn_logit_softcapping": None,
                  "rope_scaling": None, "hidden_act": "gelu_pytorch_tanh"})
        del c["attention_bias"]
    if rope_scaling == "llama3":
        c["rope_scaling"] = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                             "original_max_position_embeddings": 64}
    return c


def llama3_freqs(c):
    """LlamaModel.generate_extra_tensors, in float32 as torch computes it."""
    rs = c["rope_scaling"]
    dim = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
    base = np.float32(c["rope_theta"])
    freqs = np.float32(1.0) / (base ** (np.arange(0, dim, 2, dtype=np.float32) / np.float32(dim)))
    factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
    lo_wl, hi_wl = np.float32(old / lo), np.float32(old / hi)
    out = []
    for f in freqs:
        wl = np.float32(2 * math.pi) / f
        if wl < hi_wl:
            out.append(1.0)
        elif wl > lo_wl:
            out.append(factor)
        else:
            s = (np.float32(old) / wl - np.float32(lo)) / np.float32(hi - lo)
            out.append(np.float32(1) / ((np.float32(1) - s) / np.float32(factor) + s))
    return np.array(out, dtype=np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--gguf-out")
    ap.add_argument("--rope-scaling", choices=["llama3"])
    ap.add_argument("--webgpt")
    ap.add_argument("--vocab-merges", action="store_true", help="GPT-2's vocab.json + merges.txt instead of tokenizer.json")
    a = ap.parse_args()

    r = gguf.GGUFReader(a.src)
    fields = fields_of(r)
    arch = val(fields, "general.architecture")
    heads = val(fields, f"{arch}.attention.head_count")
    kv_heads = val(fields, f"{arch}.attention.head_count_kv", heads)
    src = {}
    for t in r.tensors:
        x = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        src[t.name] = x.reshape([int(n) for n in reversed(t.shape)]) if x.ndim == 1 and len(t.shape) > 1 else x
    n_vocab = src["token_embd.weight"].shape[0]
    tied = "output.weight" not in src

    # HF tensors as stored (raw) and their values (f32)
    hf = []
    for name, x in src.items():
        if name == "rope_freqs.weight":
            continue  # a folder says this by its config (--rope-scaling)
        hn = hf_name(arch, name)
        raw, v = store(to_hf(arch, name, x, heads, kv_heads), a.dtype)
        hf.append((hn, raw, v))

    os.makedirs(a.out, exist_ok=True)
    for f in os.listdir(a.out):
        os.unlink(os.path.join(a.out, f))
    cfg = config_of(arch, fields, n_vocab, tied, a.rope_scaling)
    cfg["torch_dtype"] = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[a.dtype]
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
    if a.shards <= 1:
        write_safetensors(os.path.join(a.out, "model.safetensors"), [(n, raw, a.dtype) for n, raw, _ in hf])
    else:
        per = math.ceil(len(hf) / a.shards)
        wmap, total = {}, 0
        for s in range(a.shards):
            fn = f"model-{s + 1:05d}-of-{a.shards:05d}.safetensors"
            part = hf[s * per:(s + 1) * per]
            write_safetensors(os.path.join(a.out, fn), [(n, raw, a.dtype) for n, raw, _ in part])
            for n, raw, _ in part:
                wmap[n] = fn
                total += raw.nbytes
        json.dump({"metadata": {"total_size": total}, "weight_map": wmap},
                  open(os.path.join(a.out, "model.safetensors.index.json"), "w"), indent=2)
    if "tokenizer.ggml.model" in fields:
        tok, tcfg, gen = tokenizer_files(fields)
        if a.vocab_merges:
            # GPT-2's older folders: vocab.json + merges.txt, no tokenizer.json
            json.dump({**tok["model"]["vocab"], **{t["content"]: t["id"] for t in tok["added_tokens"]}},
                      open(os.path.join(a.out, "vocab.json"), "w"), ensure_ascii=False)
            with open(os.path.join(a.out, "merges.txt"), "w", encoding="utf-8") as f:
                f.write("#version: 0.2\n" + "".join(m + "\n" for m in tok["model"]["merges"]))
        else:
            json.dump(tok, open(os.path.join(a.out, "tokenizer.json"), "w"), ensure_ascii=False)
            json.dump(tcfg, open(os.path.join(a.out, "tokenizer_config.json"), "w"), indent=2, ensure_ascii=False)
        json.dump(gen, open(os.path.join(a.out, "generation_config.json"), "w"), indent=2)

    if a.gguf_out:
        w = gguf.GGUFWriter(a.gguf_out + ".tmp", arch)
        for k, f in fields.items():
            if k in ("general.architecture", "general.alignment") or k.startswith(f"{arch}.rope.scaling"):
                continue
            sub = f.types[-1] if f.types[0] == gguf.GGUFValueType.ARRAY else None
            w.add_key_value(k, f.contents(), f.types[0], sub_type=sub)
        if a.rope_scaling == "llama3":
            w.add_tensor("rope_freqs.weight", llama3_freqs(cfg))
        qt = {"f32": None, "f16": None, "bf16": gguf.GGMLQuantizationType.BF16}[a.dtype]
        for (hn, raw, v), name in zip(hf, [n for n in src if n != "rope_freqs.weight"]):
            y = to_gguf(arch, hn, v, heads, kv_heads)
            if y.ndim <= 1 or name.endswith("_norm.weight") or name == "position_embd.weight":
                w.add_tensor(name, y.astype(np.float32))
            elif a.dtype == "f16":
                w.add_tensor(name, y.astype(np.float16))
            elif qt is not None:
                w.add_tensor(name, gguf.quants.quantize(y, qt), raw_dtype=qt)
            else:
                w.add_tensor(name, y.astype(np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        os.replace(a.gguf_out + ".tmp", a.gguf_out)

    if a.webgpt:
        if arch != "gpt2":
            raise SystemExit("--webgpt needs a GPT-2 source")
        os.makedirs(a.webgpt, exist_ok=True)
        E = cfg["n_embd"]
        json.dump({"n_layer": cfg["n_layer"], "n_head": cfg["n_head"], "n_embd": E, "vocab_size": n_vocab,
                   "block_size": cfg["n_ctx"], "bias": True}, open(os.path.join(a.webgpt, "params_gpt.json"), "w"))
        for hn, raw, v in hf:
            if hn == "lm_head.weight":
                continue
            # WebGPT's export: nanoGPT's state_dict, Linear layout [out][in]
            y = v.T if hn.endswith((".c_attn.weight", ".c_proj.weight", ".c_fc.weight")) else v
            np.ascontiguousarray(y, dtype="<f4").tofile(os.path.join(a.webgpt, f"transformer.{hn}_gpt.bin"))
        for f in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"):
            p = os.path.join(a.out, f)
            if os.path.exists(p):
                with open(p, "rb") as s, open(os.path.join(a.webgpt, f), "wb") as d:
                    d.write(s.read())


if __name__ == "__main__":
    main()
