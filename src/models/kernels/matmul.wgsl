// Y[t][row_offset + r] (+)= dot(W[r], X[t]) for the rows of one weight chunk.
// One workgroup per output row; each thread takes whole 32-element blocks,
// dequantizes them once and applies them to up to TB tokens, so a weight is
// read once per TB tokens during prompt processing.
struct Params { rows: u32, cols: u32, row_offset: u32, out_stride: u32, in_stride: u32, accumulate: u32, use_n_out: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<uniform> step: Step;

const TB: u32 = 8u;
var<workgroup> red: array<array<f32, TB>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = linear_wg(wid, nwg);
  if (row >= p.rows) { return; }
  let n = select(step.n_tokens, step.n_out, p.use_n_out != 0u);
  let nblocks = p.cols / 32u;
  let wrow = row * nblocks * WBLOCK_WORDS;
  let xs = p.in_stride / 4u;
  var acc: array<f32, TB>;
  for (var t0 = 0u; t0 < n; t0 += TB) {
    for (var t = 0u; t < TB; t++) { acc[t] = 0.0; }
    let nt = min(TB, n - t0);
    for (var b = lid.x; b < nblocks; b += WG) {
      let wb = wrow + b * WBLOCK_WORDS;
      for (var j = 0u; j < 8u; j++) {
        let w = wblock4(wb, j);
        let xo = t0 * xs + b * 8u + j;
        for (var t = 0u; t < nt; t++) {
          acc[t] += dot(w, X[xo + t * xs]);
        }
      }
    }
    for (var t = 0u; t < TB; t++) { red[lid.x][t] = acc[t]; }
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (lid.x < s) {
        for (var t = 0u; t < TB; t++) { red[lid.x][t] += red[lid.x + s][t]; }
      }
      workgroupBarrier();
    }
    if (lid.x < nt) {
      let o = (t0 + lid.x) * p.out_stride + p.row_offset + row;
      var v = red[0][lid.x];
      if (p.accumulate != 0u) { v += Y[o]; }
      Y[o] = v;
    }
    workgroupBarrier();
  }
}
