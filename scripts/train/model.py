"""A small Llama in plain PyTorch with llama.cpp's LLAMA semantics and
Hugging Face LlamaForCausalLM's parameter names and RoPE layout, so that
state_dict() is a LlamaForCausalLM checkpoint as it is.

- RMSNorm: x / sqrt(mean(x^2) + eps) * weight, computed in f32 (or f64).
- RoPE (base rope_base, all head dimensions): HF's rotate_half layout, where
  dimension i pairs with i + head_dim/2; the GGUF export permutes the Q/K
  rows (hf_to_gguf.permute) for llama.cpp's pairs (2i, 2i+1).
- Attention: causal, scale 1/sqrt(head_dim), GQA with query head j reading
  kv head j // (heads / kv_heads) (HF's repeat_kv, llama.cpp's layout).
- FFN: down(silu(gate(x)) * up(x)). No biases anywhere.
- Output: the token embedding reused (tied) unless cfg["tied"] is false.
Dropout (training only) on attention probabilities and on both residual
branches; it does not change the exported model.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def rope_tables(n, head_dim, base, dtype):
    """cos, sin [n, head_dim] for the rotate_half layout, computed in float64
    (HF computes them in float32; the difference is a few 1e-7 relative)."""
    inv = 1.0 / (float(base) ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def apply_rope(x, cos, sin):
    # x [B, heads, T, hd]; cos/sin [T, hd] broadcast over batch and heads.
    return x * cos + rotate_half(x) * sin


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * y.to(x.dtype)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, self.H, self.KV = cfg["dim"], cfg["heads"], cfg["kv_heads"]
        self.hd = d // self.H
        self.q_proj = nn.Linear(d, self.H * self.hd, bias=False)
        self.k_proj = nn.Linear(d, self.KV * self.hd, bias=False)
        self.v_proj = nn.Linear(d, self.KV * self.hd, bias=False)
        self.o_proj = nn.Linear(self.H * self.hd, d, bias=False)
        self.attn_dropout = float(cfg.get("dropout", 0.0))

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.KV, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.KV, self.hd).transpose(1, 2)
        # Under autocast q, k, v are bf16 and cos/sin f32: the rotation runs
        # in f32, then everything goes back to v's dtype for the kernel.
        q = apply_rope(q, cos[:T], sin[:T]).to(v.dtype)
        k = apply_rope(k, cos[:T], sin[:T]).to(v.dtype)
        if self.KV != self.H:
            k = k.repeat_interleave(self.H // self.KV, dim=1)
            v = v.repeat_interleave(self.H // self.KV, dim=1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.attn_dropout if self.training else 0.0)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, self.H * self.hd))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg["dim"], cfg["ffn"]
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg["dim"], cfg["eps"])
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg["dim"], cfg["eps"])
        self.mlp = MLP(cfg)
        self.drop = nn.Dropout(float(cfg.get("dropout", 0.0)))

    def forward(self, x, cos, sin):
        x = x + self.drop(self.self_attn(self.input_layernorm(x), cos, sin))
        return x + self.drop(self.mlp(self.post_attention_layernorm(x)))


class Backbone(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab"], cfg["dim"])
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg["layers"]))
        self.norm = RMSNorm(cfg["dim"], cfg["eps"])


class LlamaLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        self.model = Backbone(cfg)
        self.lm_head = None if cfg["tied"] else nn.Linear(cfg["dim"], cfg["vocab"], bias=False)
        self.set_rope_dtype(torch.float32)
        self._init_weights()

    def set_rope_dtype(self, dtype):
        """(Re)builds the cos/sin tables in dtype on the parameters' device;
        call it after .double() so float64 runs get float64 tables."""
        c = self.cfg
        cos, sin = rope_tables(c["ctx"], c["dim"] // c["heads"], c["rope_base"], dtype)
        dev = self.model.embed_tokens.weight.device
        self.register_buffer("rope_cos", cos.to(dev), persistent=False)
        self.register_buffer("rope_sin", sin.to(dev), persistent=False)

    def _init_weights(self):
        std = 0.02
        for name, p in self.named_parameters():
            if p.dim() < 2:
                continue  # norm weights stay 1
            s = std / math.sqrt(2 * self.cfg["layers"]) if name.endswith(("o_proj.weight", "down_proj.weight")) else std
            nn.init.normal_(p, mean=0.0, std=s)

    def output_weight(self):
        return self.model.embed_tokens.weight if self.lm_head is None else self.lm_head.weight

    def forward(self, idx, targets=None, reduction="mean"):
        if idx.shape[1] > self.rope_cos.shape[0]:
            raise ValueError(f"sequence of {idx.shape[1]} tokens is longer than the context ({self.rope_cos.shape[0]})")
        x = self.model.embed_tokens(idx)
        for layer in self.model.layers:
            x = layer(x, self.rope_cos, self.rope_sin)
        x = self.model.norm(x)
        logits = F.linear(x, self.output_weight())
        if targets is None:
            return logits
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1),
                               ignore_index=-100, reduction=reduction)

    def n_params(self):
        return sum(p.numel() for p in self.parameters())
