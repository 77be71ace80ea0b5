#!/usr/bin/python3
"""A float64 numpy forward pass for Qwen 2 / Qwen 3 GGUFs, read and
dequantized with llama.cpp's own gguf-py (GGUFReader, gguf.quants) from the
llama.cpp source node-llama-cpp ships (scripts/llamacpp_src.py). The exact
answer that llama.cpp (which rounds activations for f16/q8_0/q4_0 weights)
and wgpt approximate; nothing here is shared with wgpt or with the writer.

  numpy_qwen.py greedy MODEL IDS_JSON N [--variant V]   generated ids
  numpy_qwen.py logits MODEL IDS_JSON OUT [--variant V] f32 [positions][vocab]
  numpy_qwen.py info MODEL                              the configuration read
  numpy_qwen.py mutants MODEL IDS_JSON REF.bin TYPE [PROMPT_JSON "GREEDY IDS"]
      every --variant that applies to MODEL must be outside
      compare_logits.py's TYPE tolerance of REF (llama.cpp's logits for
      IDS_JSON): proof that the logits check would catch that mistake.
      With a prompt and llama.cpp's greedy ids, also says at which step
      each variant's greedy continuation leaves them (informational).

IDS_JSON is the whole input (Qwen adds no BOS). greedy stops before an
end-of-generation token (the eos id, or a CONTROL token spelled
<|endoftext|> or <|im_end|>, as llama.cpp's vocabulary marks them).

The forward, as llama.cpp's src/models/qwen2.cpp and qwen3.cpp compute it:
  x = token_embd[ids]
  per layer: h = rmsnorm(x) * attn_norm
    q, k, v = h Wq^T (+ bq), h Wk^T (+ bk), h Wv^T (+ bv)  (biases: qwen2)
    per head: q = rmsnorm(q) * attn_q_norm, k likewise     (qwen3)
    NEOX RoPE on q, k: pairs (i, i + n_rot/2), angle pos * base^(-2i/n_rot)
    causal softmax(q k^T / sqrt(head_dim)) v, query head j on kv head
      j // (heads / kv_heads); x += o Wo^T
    h = rmsnorm(x) * ffn_norm; x += (silu(h Wg^T) * h Wu^T) Wd^T
  logits = rmsnorm(x) * output_norm  W_out^T (+ output.bias)
  with W_out = output.weight, or token_embd.weight when absent (tied).
--variant computes a deliberately wrong forward, to show that the tests
would notice the mistake: norm-rope (adjacent pairs, Llama's mode),
no-rope, no-bias, no-qk-norm, qk-norm-after-rope, no-gqa (query head j on
kv head j % kv_heads), attn-scale (1/sqrt(dim/heads) instead of
1/sqrt(head_dim): differs only where head_dim != dim/heads)."""

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

VARIANTS = ("norm-rope", "no-rope", "no-bias", "no-qk-norm", "qk-norm-after-rope", "no-gqa", "attn-scale")
EOG_TEXTS = ("<|endoftext|>", "<|im_end|>")


class Model:
    def __init__(self, path):
        r = gguf.GGUFReader(path)
        self.meta = {k: f.contents() for k, f in r.fields.items() if not k.startswith("GGUF.")}
        arch = self.meta["general.architecture"]
        if arch not in ("qwen2", "qwen3"):
            raise SystemExit(f"{path}: architecture {arch!r}, not qwen2/qwen3")
        self.arch = arch
        m = lambda k, d=None: self.meta.get(f"{arch}.{k}", d)  # noqa: E731
        dim, heads = m("embedding_length"), m("attention.head_count")
        self.cfg = dict(arch=arch, dim=dim, layers=m("block_count"), heads=heads,
                        kv_heads=m("attention.head_count_kv", heads), ffn=m("feed_forward_length"),
                        head_dim=m("attention.key_length", dim // heads),
                        rope_base=float(m("rope.freq_base", 10000.0)),
                        eps=float(m("attention.layer_norm_rms_epsilon")),
                        vocab=len(self.meta["tokenizer.ggml.tokens"]))
        self.cfg["n_rot"] = m("rope.dimension_count", self.cfg["head_dim"])
        if m("attention.value_length", self.cfg["head_dim"]) != self.cfg["head_dim"]:
            raise SystemExit("value_length != key_length is not a Qwen 2/3 model")
        if m("rope.scaling.type", "none") not in ("none",):
            raise SystemExit("rope scaling is not implemented here")
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

    def forward(self, ids, variant=None):
        """Logits [len(ids), vocab] from position 0, float64."""
        if variant is not None and variant not in VARIANTS:
            raise SystemExit(f"unknown variant {variant}")
        c, W = self.cfg, self.W
        H, KV, hd, rot, eps = c["heads"], c["kv_heads"], c["head_dim"], c["n_rot"], c["eps"]
        n = len(ids)

        def rms(x, w):
            return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

        inv = c["rope_base"] ** (-np.arange(0, rot, 2, dtype=np.float64) / rot)
        ang = np.arange(n, dtype=np.float64)[:, None] * inv[None, :]
        cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]  # [n, 1, rot/2]

        def rope(x):  # x [n, heads, hd]
            if variant == "no-rope":
                return x
            out = x.copy()
            if variant == "norm-rope":  # adjacent pairs (2i, 2i+1)
                a, b = x[..., 0:rot:2], x[..., 1:rot:2]
                out[..., 0:rot:2] = a * cos - b * sin
                out[..., 1:rot:2] = a * sin + b * cos
            else:  # NEOX: (i, i + rot/2)
                h = rot // 2
                a, b = x[..., :h], x[..., h:rot]
                out[..., :h] = a * cos - b * sin
                out[..., h:rot] = a * sin + b * cos
            return out

        mask = np.triu(np.full((n, n), -np.inf), 1)
        x = W["token_embd.weight"][np.asarray(ids)]
        for i in range(c["layers"]):
            p = f"blk.{i}."
            h = rms(x, W[p + "attn_norm.weight"])
            q, k, v = (h @ W[p + f"attn_{s}.weight"].T for s in "qkv")
            if variant != "no-bias":
                q = q + W.get(p + "attn_q.bias", 0.0)
                k = k + W.get(p + "attn_k.bias", 0.0)
                v = v + W.get(p + "attn_v.bias", 0.0)
            q, k, v = q.reshape(n, H, hd), k.reshape(n, KV, hd), v.reshape(n, KV, hd)
            qk_norm = p + "attn_q_norm.weight" in W and variant != "no-qk-norm"
            if qk_norm and variant != "qk-norm-after-rope":
                q = rms(q, W[p + "attn_q_norm.weight"])
                k = rms(k, W[p + "attn_k_norm.weight"])
            q, k = rope(q), rope(k)
            if qk_norm and variant == "qk-norm-after-rope":
                q = rms(q, W[p + "attn_q_norm.weight"])
                k = rms(k, W[p + "attn_k_norm.weight"])
            if variant == "no-gqa":
                kv_of = np.arange(H) % KV
            else:
                kv_of = np.arange(H) // (H // KV)
            k, v = k[:, kv_of], v[:, kv_of]
            scale = math.sqrt(c["dim"] // H if variant == "attn-scale" else hd)
            att = np.einsum("qhd,khd->hqk", q, k) / scale + mask
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            o = np.einsum("hqk,khd->qhd", att, v).reshape(n, H * hd)
            x = x + o @ W[p + "attn_output.weight"].T
            h = rms(x, W[p + "ffn_norm.weight"])
            g = h @ W[p + "ffn_gate.weight"].T
            x = x + ((g / (1 + np.exp(-g))) * (h @ W[p + "ffn_up.weight"].T)) @ W[p + "ffn_down.weight"].T
        x = rms(x, W["output_norm.weight"])
        logits = x @ W.get("output.weight", W["token_embd.weight"]).T
        if "output.bias" in W:
            logits = logits + W["output.bias"]
        return logits

    def variants(self):
        """The deliberate mistakes that change this model's forward."""
        c, W = self.cfg, self.W
        v = ["norm-rope", "no-rope"]
        if 1 < c["kv_heads"] < c["heads"]:
            v.append("no-gqa")
        if any(k.endswith((".attn_q.bias", ".attn_k.bias", ".attn_v.bias")) for k in W):
            v.append("no-bias")
        if "blk.0.attn_q_norm.weight" in W:
            v += ["no-qk-norm", "qk-norm-after-rope"]
        if c["head_dim"] != c["dim"] // c["heads"]:
            v.append("attn-scale")
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
    for v in m.variants():
        ok, msg = compare(ref, m.forward(ids, v), wtype)
        d = float(msg.split("max diff ")[1].split(" ")[0])
        note = f"{v} {d:.2g}"
        if ok:
            caught = False
            note += " (NOT caught)"
        if prompt is not None:
            want = [int(t) for t in greedy_ids.split()]
            got = m.greedy(json.loads(prompt), len(want), v)
            step = next((i for i, (a, b) in enumerate(zip(got + [None] * len(want), want)) if a != b), None)
            note += f", greedy {'same' if step is None else f'differs at step {step}'}"
        notes.append(note)
    print(f"mutants (max diff of scale vs tolerance): {'; '.join(notes)}")
    return 0 if caught else 1


def main(argv):
    args = [a for a in argv[1:]]
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
