// RoPE in llama.cpp's normal mode (adjacent pairs) on Q and K in place; the
// rotated K goes into the KV cache too, with V. cos/sin come from a table
// computed on the CPU in double precision: GPU sin/cos of large angles are
// not exact enough.
struct Params { n_heads: u32, n_kv_heads: u32, head_dim: u32, rope_pairs: u32, cache_off: u32, kv_dim: u32, q_dim: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> Q: array<f32>;
@group(0) @binding(2) var<storage, read_write> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read_write> Kc: array<f32>;
@group(0) @binding(5) var<storage, read_write> Vc: array<f32>;
@group(0) @binding(6) var<storage, read> cs: array<vec2<f32>>;
@group(0) @binding(7) var<uniform> step: Step;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let heads = p.n_heads + p.n_kv_heads;
  let g = linear_wg(wid, nwg);
  let t = g / heads;
  let h = g % heads;
  if (t >= step.n_tokens) { return; }
  let pos = step.pos0 + t;
  let half = p.head_dim / 2u;
  for (var i = lid.x; i < half; i += WG) {
    var c = vec2<f32>(1.0, 0.0);
    if (i < p.rope_pairs) { c = cs[pos * p.rope_pairs + i]; }
    if (h < p.n_heads) {
      let o = t * p.q_dim + h * p.head_dim + 2u * i;
      let x0 = Q[o]; let x1 = Q[o + 1u];
      Q[o] = x0 * c.x - x1 * c.y;
      Q[o + 1u] = x0 * c.y + x1 * c.x;
    } else {
      let kh = h - p.n_heads;
      let o = t * p.kv_dim + kh * p.head_dim + 2u * i;
      let x0 = K[o]; let x1 = K[o + 1u];
      let co = p.cache_off + pos * p.kv_dim + kh * p.head_dim + 2u * i;
      let r0 = x0 * c.x - x1 * c.y;
      let r1 = x0 * c.y + x1 * c.x;
      K[o] = r0;
      K[o + 1u] = r1;
      Kc[co] = r0;
      Kc[co + 1u] = r1;
      Vc[co] = V[o];
      Vc[co + 1u] = V[o + 1u];
    }
  }
  // An odd head size leaves one element after the pairs: never rotated, but
  // it belongs in the cache all the same.
  if ((p.head_dim & 1u) == 1u && h >= p.n_heads && lid.x == 0u) {
    let kh = h - p.n_heads;
    let o = t * p.kv_dim + kh * p.head_dim + p.head_dim - 1u;
    let co = p.cache_off + pos * p.kv_dim + kh * p.head_dim + p.head_dim - 1u;
    Kc[co] = K[o];
    Vc[co] = V[o];
  }
}
