// RoPE, in place, on this step's queries (rows t of Q) and keys, which the K
// projection has already stored in the cache (rows step_row(t) of Kc). Pairs
// are llama.cpp's NORMAL mode, (2i, 2i+1), or with neox set its NEOX mode,
// (i, i + rope_pairs); values past the first 2 * rope_pairs of a head are
// left alone (partial rotary). cos/sin come from a table computed on the CPU
// in double precision: GPU sin/cos of large angles are not exact enough.
struct Params { n_heads: u32, n_kv_heads: u32, head_dim: u32, rope_pairs: u32, neox: u32, kv_dim: u32, q_dim: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> Q: array<f32>;
@group(0) @binding(2) var<storage, read_write> Kc: array<f32>;
@group(0) @binding(3) var<storage, read> cs: array<vec2<f32>>;
@group(0) @binding(4) var<uniform> step: Step;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let heads = p.n_heads + p.n_kv_heads;
  let g = linear_wg(wid, nwg);
  let t = g / heads;
  let h = g % heads;
  if (t >= step.n_tokens) { return; }
  let pos = step_pos(t);
  for (var i = lid.x; i < p.rope_pairs; i += WG) {
    let c = cs[pos * p.rope_pairs + i];
    let i0 = select(2u * i, i, p.neox != 0u);
    let i1 = select(2u * i + 1u, i + p.rope_pairs, p.neox != 0u);
    if (h < p.n_heads) {
      let o = t * p.q_dim + h * p.head_dim;
      let x0 = Q[o + i0]; let x1 = Q[o + i1];
      Q[o + i0] = x0 * c.x - x1 * c.y;
      Q[o + i1] = x0 * c.y + x1 * c.x;
    } else {
      let o = step_row(t) * p.kv_dim + (h - p.n_heads) * p.head_dim;
      let x0 = Kc[o + i0]; let x1 = Kc[o + i1];
      Kc[o + i0] = x0 * c.x - x1 * c.y;
      Kc[o + i1] = x0 * c.y + x1 * c.x;
    }
  }
}
