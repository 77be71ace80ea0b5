// Causal grouped-query attention for one (token, head) per workgroup over
// the KV cache: scores into a scratch row, softmax, weighted sum of V.
struct Params { n_heads: u32, n_kv_heads: u32, head_dim: u32, kv_dim: u32, q_dim: u32, cache_off: u32, n_ctx: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> Kc: array<f32>;
@group(0) @binding(3) var<storage, read> Vc: array<f32>;
@group(0) @binding(4) var<storage, read_write> S: array<f32>;
@group(0) @binding(5) var<storage, read_write> O: array<f32>;
@group(0) @binding(6) var<uniform> step: Step;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = linear_wg(wid, nwg);
  let t = g / p.n_heads;
  let h = g % p.n_heads;
  if (t >= step.n_tokens) { return; }
  let n_keys = step.pos0 + t + 1u;
  let kvh = h / (p.n_heads / p.n_kv_heads);
  let qo = t * p.q_dim + h * p.head_dim;
  let so = g * p.n_ctx;
  let ko = p.cache_off + kvh * p.head_dim;

  var m = -3.0e38;
  for (var j = lid.x; j < n_keys; j += WG) {
    var s = 0.0;
    for (var d = 0u; d < p.head_dim; d++) { s += Q[qo + d] * Kc[ko + j * p.kv_dim + d]; }
    s *= p.scale;
    S[so + j] = s;
    m = max(m, s);
  }
  red[lid.x] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { red[lid.x] = max(red[lid.x], red[lid.x + s]); }
    workgroupBarrier();
  }
  let mx = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var j = lid.x; j < n_keys; j += WG) {
    let e = exp(S[so + j] - mx);
    S[so + j] = e;
    sum += e;
  }
  red[lid.x] = sum;
  storageBarrier();
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { red[lid.x] += red[lid.x + s]; }
    workgroupBarrier();
  }
  let inv = 1.0 / red[0];
  for (var d = lid.x; d < p.head_dim; d += WG) {
    var acc = 0.0;
    for (var j = 0u; j < n_keys; j++) { acc += S[so + j] * Vc[ko + j * p.kv_dim + d]; }
    O[qo + d] = acc * inv;
  }
}
