// RMSNorm of each head, in place, before RoPE (Qwen 3's q_norm and k_norm):
// a head's head_dim values x become x / sqrt(mean(x^2) + eps) * w, with wq
// for this step's query heads (rows t of Q) and wk for its key heads, already
// in the cache (rows pos0 + t of Kc). One group of lanes per (token, head).
struct Params { n_heads: u32, n_kv_heads: u32, head_dim: u32, q_dim: u32, kv_dim: u32, eps: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> Q: array<f32>;
@group(0) @binding(2) var<storage, read_write> Kc: array<f32>;
@group(0) @binding(3) var<storage, read> wq: array<f32>;
@group(0) @binding(4) var<storage, read> wk: array<f32>;
@group(0) @binding(5) var<uniform> step: Step;

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  let heads = p.n_heads + p.n_kv_heads;
  let units = step.n_tokens * heads;
  let g_id = wg * slots + slot;
  let valid = g_id < units;
  let g = min(g_id, units - 1u);
  let t = g / heads;
  let h = g % heads;
  let is_q = h < p.n_heads;
  var o = t * p.q_dim + h * p.head_dim;
  if (!is_q) { o = (step.pos0 + t) * p.kv_dim + (h - p.n_heads) * p.head_dim; }
  var ss = 0.0;
  for (var i = lane; i < p.head_dim; i += G) {
    var x: f32;
    if (is_q) { x = Q[o + i]; } else { x = Kc[o + i]; }
    ss += x * x;
  }
  let scale = 1.0 / sqrt(group_sum(ss, lane) / f32(p.head_dim) + p.eps);
  if (valid) {
    for (var i = lane; i < p.head_dim; i += G) {
      if (is_q) { Q[o + i] = Q[o + i] * scale * wq[i]; } else { Kc[o + i] = Kc[o + i] * scale * wk[i]; }
    }
  }
}
