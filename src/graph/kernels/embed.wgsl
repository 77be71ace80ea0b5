// X[t] (+)= scale * dequantized row ids[t] of the token embedding, for the
// ids that fall in this chunk of rows (a large embedding is split over
// buffers). With by_pos the row is the token's position, pos0 + t, and
// accumulate adds it: GPT-2's learned positions onto the token's embedding.
struct Params { rows: u32, cols: u32, row_offset: u32, by_pos: u32, scale: f32, accumulate: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> X: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> step: Step;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = linear_wg(wid, nwg);
  if (t >= step.n_tokens) { return; }
  var id = ids[t];
  if (p.by_pos != 0u) { id = step_pos(t); }
  if (id < p.row_offset || id >= p.row_offset + p.rows) { return; }
  let nblocks = p.cols / 32u;
  let wrow = (id - p.row_offset) * nblocks * WBLOCK_WORDS;
  for (var i = lid.x; i < nblocks * 8u; i += WG) {
    let o = t * (p.cols / 4u) + i;
    var v = wblock4(wrow + (i / 8u) * WBLOCK_WORDS, i % 8u) * p.scale;
    if (p.accumulate != 0u) { v += X[o]; }
    X[o] = v;
  }
}
