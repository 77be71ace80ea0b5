// attention_split.wgsl's chunks of one head combined: each chunk's sums are
// scaled by exp(m - M), M the largest score over all chunks, and the
// weighted sum divided by the total of the exps. A workgroup per query
// head; its lanes split the chunks in as many groups as a head's vec4s fit
// in the workgroup, then add the groups' sums up.
struct Params { n_heads: u32, n_kv_heads: u32, head_dim: u32, kv_dim: u32, q_dim: u32, cache_off: u32, n_ctx: u32, scale: f32,
                window: u32, chunks: u32, chunk_keys: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> P: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> O: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> step: Step;

var<workgroup> red_m: array<f32, WG>;
var<workgroup> red_l: array<f32, WG>;
var<workgroup> red_a: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
  let h = linear_wg(wid, nwg);
  if (h >= p.n_heads) { return; }
  let n_keys = step_pos(0u) + 1u;
  var first = 0u;
  if (p.window != 0u && n_keys > p.window) { first = n_keys - p.window; }
  let c0 = first / p.chunk_keys;
  let c1 = (n_keys + p.chunk_keys - 1u) / p.chunk_keys;
  let nv = p.head_dim / 4u;
  let stride = nv + 1u;
  let cgs = WG / nv;
  let cg = t / nv;
  let dv = t % nv;
  let base = h * p.chunks * stride;

  var m = -3.0e38;
  if (cg < cgs) {
    for (var c = c0 + cg; c < c1; c += cgs) { m = max(m, P[base + c * stride + nv].x); }
  }
  red_m[t] = m;
  workgroupBarrier();
  var mx = -3.0e38;
  for (var g = 0u; g < cgs; g++) { mx = max(mx, red_m[g * nv]); }
  var acc = vec4<f32>(0.0);
  var l = 0.0;
  if (cg < cgs) {
    for (var c = c0 + cg; c < c1; c += cgs) {
      let ml = P[base + c * stride + nv];
      let w = exp(ml.x - mx);
      acc += P[base + c * stride + dv] * w;
      l += ml.y * w;
    }
  }
  red_a[t] = acc;
  red_l[t] = l;
  workgroupBarrier();
  if (t < nv) {
    var a = red_a[t];
    var s = red_l[t];
    for (var g = 1u; g < cgs; g++) {
      a += red_a[g * nv + t];
      s += red_l[g * nv + t];
    }
    O[h * nv + t] = a / s;
  }
}
