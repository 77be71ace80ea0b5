// RMSNorm of each head, in place, then RoPE (Qwen 3's and Gemma 3's q_norm
// and k_norm, which come between the projections and RoPE, so the QKV
// product cannot turn them): a head's head_dim values x become
// x / sqrt(mean(x^2) + eps) * w, with wq for this step's query heads (rows t
// of Q) and wk for its key heads, already in the cache (rows pos0 + t of
// Kc); then its first rope_pairs pairs turn as in rope.wgsl (NORMAL
// (2i, 2i+1), or with neox NEOX (i, i + rope_pairs); the rest is only
// normed). One pass over each head saves the dispatch and the round trip
// through memory between the two. One group of lanes per (token, head); the
// values a lane writes are only those it read after the group's sum, so the
// in-place update needs no barrier.
struct Params { n_heads: u32, n_kv_heads: u32, head_dim: u32, q_dim: u32, kv_dim: u32, eps: f32, rope_pairs: u32, neox: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> Q: array<f32>;
@group(0) @binding(2) var<storage, read_write> Kc: array<f32>;
@group(0) @binding(3) var<storage, read> wq: array<f32>;
@group(0) @binding(4) var<storage, read> wk: array<f32>;
@group(0) @binding(5) var<storage, read> cs: array<vec2<f32>>;
@group(0) @binding(6) var<uniform> step: Step;

fn head_load(is_q: bool, at: u32) -> f32 {
  if (is_q) { return Q[at]; }
  return Kc[at];
}

fn head_store(is_q: bool, at: u32, v: f32) {
  if (is_q) { Q[at] = v; } else { Kc[at] = v; }
}

// The normed value as the unfused norm stored it: (x * scale) * w in f32.
fn head_normed(is_q: bool, o: u32, i: u32, scale: f32) -> f32 {
  if (is_q) { return Q[o + i] * scale * wq[i]; }
  return Kc[o + i] * scale * wk[i];
}

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  let heads = p.n_heads + p.n_kv_heads;
  let units = step.n_tokens * heads;
  let g_id = wg * slots + slot;
  let valid = g_id < units;
  let g = min(g_id, units - 1u);
  let t = g / heads;
  let h = g % heads;
  let is_q = h < p.n_heads;
  let pos = step_pos(t);
  var o = t * p.q_dim + h * p.head_dim;
  if (!is_q) { o = step_row(t) * p.kv_dim + (h - p.n_heads) * p.head_dim; }
  var ss = 0.0;
  for (var i = lane; i < p.head_dim; i += G) {
    let x = head_load(is_q, o + i);
    ss += x * x;
  }
  let scale = 1.0 / sqrt(group_sum(ss, lane) / f32(p.head_dim) + p.eps);
  if (!valid) { return; }
  for (var i = lane; i < p.rope_pairs; i += G) {
    let c = cs[pos * p.rope_pairs + i];
    let i0 = select(2u * i, i, p.neox != 0u);
    let i1 = select(2u * i + 1u, i + p.rope_pairs, p.neox != 0u);
    let x0 = head_normed(is_q, o, i0, scale);
    let x1 = head_normed(is_q, o, i1, scale);
    head_store(is_q, o + i0, x0 * c.x - x1 * c.y);
    head_store(is_q, o + i1, x0 * c.y + x1 * c.x);
  }
  for (var i = 2u * p.rope_pairs + lane; i < p.head_dim; i += G) {
    head_store(is_q, o + i, head_normed(is_q, o, i, scale));
  }
}
