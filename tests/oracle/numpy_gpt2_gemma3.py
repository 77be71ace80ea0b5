#!/usr/bin/python3
"""A float64 numpy forward pass for GPT-2 and Gemma 3 GGUFs, read and
dequantized with llama.cpp's own gguf-py (GGUFReader, gguf.quants) from the
llama.cpp source node-llama-cpp ships (scripts/llamacpp_src.py); nothing
here is shared with wgpt or with the writer. The same commands as
numpy_qwen.py:

  numpy_gpt2_gemma3.py greedy MODEL IDS_JSON N [--variant V]
  numpy_gpt2_gemma3.py logits MODEL IDS_JSON OUT [--variant V]
  numpy_gpt2_gemma3.py mutants MODEL IDS_JSON REF.bin TYPE [PROMPT_JSON "GREEDY IDS"]
      (with $TOL_MAX, at that tolerance rather than the type's)

The forward, as llama.cpp's src/models/gpt2.cpp and gemma3.cpp compute it:
  gpt2    x = token_embd[ids] + position_embd[pos]
          per layer: h = layernorm(x) * w + b; q, k, v = rows of
          h attn_qkv^T + bias (Q's, then K's, then V's); causal softmax(q k^T /
          sqrt(head_dim)) v; x += o Wo^T + bo; h = layernorm(x) * w + b;
          x += gelu(h Wup^T + bup) Wdown^T + bdown
          logits = layernorm(x) (output_norm weight and bias) W_out^T
  gemma3  x = token_embd[ids] * sqrt(dim)
          per layer: h = rmsnorm(x) * attn_norm; q, k, v = h W^T; per head
          q = rmsnorm(q) * q_norm, k likewise; NEOX RoPE with base
          rope.freq_base_swa (default 10000) on windowed layers (l % 6 != 5),
          rope.freq_base on global ones; softmax(q k^T / sqrt(head_dim)) v
          over keys pos - window + 1..pos (windowed) or 0..pos (global);
          x += rmsnorm(o Wo^T) * post_attention_norm;
          h = rmsnorm(x) * ffn_norm;
          x += rmsnorm((gelu(h Wg^T) * h Wu^T) Wd^T) * post_ffw_norm
          logits = rmsnorm(x) * output_norm W_out^T, soft-capped when
          final_logit_softcapping is set
  gelu is the tanh form; W_out = output.weight, else token_embd.weight.
--variant computes a deliberately wrong forward (the mutants command shows
that the logit tolerance would catch each): gpt2: no-pos, no-qkv-bias,
rms-norm (RMSNorm for LayerNorm), gelu-erf (informational: erf GELU is
close); gemma3: no-window, one-rope-base (rope.freq_base everywhere),
no-embed-scale, no-post-norm, silu (SwiGLU for GeGLU), all-windowed
(the window on every layer, none global)."""

import json
import math
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import llamacpp_src  # noqa: E402

gguf = llamacpp_src.import_gguf()
from gguf import quants  # noqa: E402

VARIANTS = {"gpt2": ("no-pos", "no-qkv-bias", "rms-norm", "gelu-erf"),
            "gemma3": ("no-window", "one-rope-base", "no-embed-scale", "no-post-norm", "silu", "all-windowed")}
INFORMATIONAL = ("gelu-erf",)
EOG_TEXTS = ("<|endoftext|>", "<end_of_turn>", "</s>")


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * x * (1.0 + 0.044715 * x * x)))


def gelu_erf(x):
    from math import erf
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / math.sqrt(2.0)))


class Model:
    def __init__(self, path):
        r = gguf.GGUFReader(path)
        self.meta = {k: f.contents() for k, f in r.fields.items() if not k.startswith("GGUF.")}
        arch = self.meta["general.architecture"]
        if arch not in VARIANTS:
            raise SystemExit(f"{path}: architecture {arch!r}, not gpt2/gemma3")
        self.arch = arch
        m = lambda k, d=None: self.meta.get(f"{arch}.{k}", d)  # noqa: E731
        dim, heads = m("embedding_length"), m("attention.head_count")
        self.cfg = dict(arch=arch, dim=dim, layers=m("block_count"), heads=heads,
                        kv_heads=m("attention.head_count_kv", heads), ffn=m("feed_forward_length"),
                        head_dim=m("attention.key_length", dim // heads),
                        rope_base=float(m("rope.freq_base", 10000.0)),
                        rope_base_swa=float(m("rope.freq_base_swa", 10000.0)),
                        window=int(m("attention.sliding_window", 0)),
                        pattern=int(m("attention.sliding_window_pattern", 6)),
                        softcap=float(m("final_logit_softcapping", 0.0)),
                        vocab=len(self.meta["tokenizer.ggml.tokens"]))
        self.cfg["eps"] = float(m("attention.layer_norm_epsilon") if arch == "gpt2"
                                else m("attention.layer_norm_rms_epsilon"))
        self.W = {}
        for t in r.tensors:
            x = quants.dequantize(t.data, t.tensor_type).astype(np.float64)
            self.W[t.name] = x.reshape([int(n) for n in reversed(t.shape)])  # ggml ne is reversed numpy
        tokens, types = self.meta["tokenizer.ggml.tokens"], self.meta.get("tokenizer.ggml.token_type")
        self.eog = {self.meta.get("tokenizer.ggml.eos_token_id"), self.meta.get("tokenizer.ggml.eot_token_id")}
        for i, tok in enumerate(tokens):
            if tok in EOG_TEXTS and (types is None or types[i] == gguf.TokenType.CONTROL):
                self.eog.add(i)
        self.eog.discard(None)

    def windowed(self, layer, variant):
        c = self.cfg
        if c["window"] <= 0 or variant == "no-window":
            return False
        return variant == "all-windowed" or layer % c["pattern"] < c["pattern"] - 1

    def forward(self, ids, variant=None):
        """Logits [len(ids), vocab] from position 0, float64."""
        if variant is not None and variant not in VARIANTS[self.arch]:
            raise SystemExit(f"unknown variant {variant} for {self.arch}")
        c, W = self.cfg, self.W
        H, KV, hd, eps, n = c["heads"], c["kv_heads"], c["head_dim"], c["eps"], len(ids)

        def rms(x, w):
            return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

        def norm(x, p):
            if self.arch == "gemma3" or variant == "rms-norm":
                return rms(x, W[p + ".weight"]) + W.get(p + ".bias", 0.0)
            mu = x.mean(-1, keepdims=True)
            return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * W[p + ".weight"] + W[p + ".bias"]

        def rope(x, base):  # NEOX pairs (i, i + hd/2), x [n, heads, hd]
            inv = base ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
            ang = np.arange(n, dtype=np.float64)[:, None] * inv[None, :]
            cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
            h = hd // 2
            a, b = x[..., :h], x[..., h:]
            return np.concatenate([a * cos - b * sin, a * sin + b * cos], axis=-1)

        pos = np.arange(n)
        causal = pos[None, :] > pos[:, None]
        ids = np.asarray(ids)
        if self.arch == "gpt2":
            x = W["token_embd.weight"][ids]
            if variant != "no-pos":
                x = x + W["position_embd.weight"][pos]
        else:
            x = W["token_embd.weight"][ids] * (1.0 if variant == "no-embed-scale" else math.sqrt(c["dim"]))
        for i in range(c["layers"]):
            p = f"blk.{i}."
            h = norm(x, p + "attn_norm")
            if self.arch == "gpt2":
                qkv = h @ W[p + "attn_qkv.weight"].T
                if variant != "no-qkv-bias":
                    qkv = qkv + W[p + "attn_qkv.bias"]
                q, k, v = np.split(qkv, [H * hd, H * hd + KV * hd], axis=-1)
            else:
                q, k, v = (h @ W[p + f"attn_{s}.weight"].T for s in "qkv")
            q, k, v = q.reshape(n, H, hd), k.reshape(n, KV, hd), v.reshape(n, KV, hd)
            mask = causal
            if self.arch == "gemma3":
                q = rms(q, W[p + "attn_q_norm.weight"])
                k = rms(k, W[p + "attn_k_norm.weight"])
                win = self.windowed(i, variant)
                base = c["rope_base_swa"] if win and variant != "one-rope-base" else c["rope_base"]
                q, k = rope(q, base), rope(k, base)
                if win:
                    mask = causal | (pos[:, None] - pos[None, :] >= c["window"])
            kv_of = np.arange(H) // (H // KV)
            k, v = k[:, kv_of], v[:, kv_of]
            att = np.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd) + np.where(mask, -np.inf, 0.0)
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            o = np.einsum("hqk,khd->qhd", att, v).reshape(n, H * hd) @ W[p + "attn_output.weight"].T
            if self.arch == "gpt2":
                x = x + o + W[p + "attn_output.bias"]
                h = norm(x, p + "ffn_norm")
                u = h @ W[p + "ffn_up.weight"].T + W[p + "ffn_up.bias"]
                act = gelu_erf(u) if variant == "gelu-erf" else gelu(u)
                x = x + act @ W[p + "ffn_down.weight"].T + W[p + "ffn_down.bias"]
            else:
                x = x + (o if variant == "no-post-norm" else rms(o, W[p + "post_attention_norm.weight"]))
                h = rms(x, W[p + "ffn_norm.weight"])
                g = h @ W[p + "ffn_gate.weight"].T
                g = g / (1 + np.exp(-g)) if variant == "silu" else gelu(g)
                f = (g * (h @ W[p + "ffn_up.weight"].T)) @ W[p + "ffn_down.weight"].T
                x = x + (f if variant == "no-post-norm" else rms(f, W[p + "post_ffw_norm.weight"]))
        x = norm(x, "output_norm")
        logits = x @ W.get("output.weight", W["token_embd.weight"]).T
        if c["softcap"] > 0:
            logits = c["softcap"] * np.tanh(logits / c["softcap"])
        return logits

    def variants(self):
        v = list(VARIANTS[self.arch])
        if self.arch == "gemma3" and self.cfg["window"] <= 0:
            v = [x for x in v if x not in ("no-window", "one-rope-base", "all-windowed")]
        return v

    def greedy(self, ids, n, variant=None):
        out = []
        for _ in range(n):
            t = int(np.argmax(self.forward(list(ids) + out, variant)[-1]))  # first max, like llama.cpp
            if t in self.eog:
                break
            out.append(t)
        return out


def mutants(path, ids, ref_path, wtype, prompt=None, greedy_ids=None):
    from compare_logits import compare, load
    m = Model(path)
    ids = json.loads(ids)
    ref = load(ref_path, m.cfg["vocab"])
    caught, notes = True, []
    tol = float(os.environ.get("TOL_MAX") or 0) or None  # the test's own tolerance (oracle_lib.sh)
    for v in m.variants():
        ok, msg = compare(ref, m.forward(ids, v), wtype, tol)
        d = float(msg.split("max diff ")[1].split(" ")[0])
        note = f"{v} {d:.2g}"
        if ok:
            note += " (informational)" if v in INFORMATIONAL else " (NOT caught)"
            caught = caught and v in INFORMATIONAL
        if prompt is not None:
            want = [int(t) for t in greedy_ids.split()]
            got = m.greedy(json.loads(prompt), len(want), v)
            step = next((i for i, (a, b) in enumerate(zip(got + [None] * len(want), want)) if a != b), None)
            note += f", greedy {'same' if step is None else f'differs at step {step}'}"
        notes.append(note)
    print(f"mutants (max diff of scale vs tolerance): {'; '.join(notes)}")
    return 0 if caught else 1


def main(argv):
    args = list(argv[1:])
    variant = None
    if "--variant" in args:
        i = args.index("--variant")
        variant = args[i + 1]
        del args[i:i + 2]
    if len(args) == 2 and args[0] == "info":
        m = Model(args[1])
        print(json.dumps(dict(m.cfg, eog=sorted(m.eog), tensors={k: list(v.shape) for k, v in m.W.items()})))
        return 0
    if len(args) in (5, 7) and args[0] == "mutants":
        return mutants(*args[1:])
    if len(args) != 4 or args[0] not in ("greedy", "logits"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, path, ids, arg = args[0], args[1], json.loads(args[2]), args[3]
    m = Model(path)
    if cmd == "logits":
        m.forward(ids, variant).astype("<f4").tofile(arg)
    else:
        print(" ".join(map(str, m.greedy(ids, int(arg), variant))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
