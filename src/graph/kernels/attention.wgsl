// Causal grouped-query attention over the KV cache, one group of lanes per
// (token, head): scores into a scratch row (each lane keeps to the keys it
// scored itself), softmax, then the weighted sum of V with each key's weight
// passed along the group. With a window, the token at pos sees only keys
// pos - window + 1 .. pos (llama.cpp's LLAMA_SWA_TYPE_STANDARD mask).
struct Params { n_heads: u32, n_kv_heads: u32, head_dim: u32, kv_dim: u32, q_dim: u32, cache_off: u32, n_ctx: u32, scale: f32,
                window: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> Kc: array<f32>;
@group(0) @binding(3) var<storage, read> Vc: array<f32>;
@group(0) @binding(4) var<storage, read_write> S: array<f32>;
@group(0) @binding(5) var<storage, read_write> O: array<f32>;
@group(0) @binding(6) var<uniform> step: Step;

// MAXD (head dims per lane; head_dim <= MAXD * group size, checked on the
// host) is set by kernels.c for the adapter's group size.

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  let g_id = wg * slots + slot;
  let units = step.n_tokens * p.n_heads;
  let valid = g_id < units;
  let g = min(g_id, units - 1u);
  let t = g / p.n_heads;
  let h = g % p.n_heads;
  let n_keys = step.pos0 + t + 1u;
  var first = 0u;
  if (p.window != 0u && n_keys > p.window) { first = n_keys - p.window; }
  let kvh = h / (p.n_heads / p.n_kv_heads);
  let qo = t * p.q_dim + h * p.head_dim;
  let so = g * p.n_ctx;
  let ko = p.cache_off + kvh * p.head_dim;

  var m = -3.0e38;
  for (var j = first + lane; j < n_keys; j += G) {
    var s = 0.0;
    for (var d = 0u; d < p.head_dim; d++) { s += Q[qo + d] * Kc[ko + j * p.kv_dim + d]; }
    s *= p.scale;
    S[so + j] = s;
    m = max(m, s);
  }
  m = group_max(m, lane);
  var l = 0.0;
  for (var j = first + lane; j < n_keys; j += G) {
    let e = exp(S[so + j] - m);
    S[so + j] = e;
    l += e;
  }
  l = group_sum(l, lane);

  var acc: array<f32, MAXD>;
  let dpl = (p.head_dim + G - 1u) / G;
  for (var j0 = first; j0 < n_keys; j0 += G) {
    var own = 0.0;
    if (j0 + lane < n_keys) { own = S[so + j0 + lane]; }
    let kn = min(G, n_keys - j0);
    for (var k = 0u; k < kn; k++) {
      let e = group_bcast(own, k, lane);
      let vo = ko + (j0 + k) * p.kv_dim;
      for (var dd = 0u; dd < dpl; dd++) {
        let d = lane + dd * G;
        if (d < p.head_dim) { acc[dd] += e * Vc[vo + d]; }
      }
    }
  }
  if (valid) {
    let inv = 1.0 / l;
    for (var dd = 0u; dd < dpl; dd++) {
      let d = lane + dd * G;
      if (d < p.head_dim) { O[qo + d] = acc[dd] * inv; }
    }
  }
}
