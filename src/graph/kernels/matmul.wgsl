// Y[base + t][row_offset + r] (+)= dot(W[r], X[t]) (+ B[row_offset + r]) for
// the rows of one weight chunk. One group of lanes per output row; each lane
// takes whole 32-element blocks, dequantizes them once and applies them to up
// to TB tokens, so a weight is read once per TB tokens during prompt
// processing. rows_mode says which rows: 0 this step's tokens (base 0),
// 1 only the n_out rows whose logits are wanted (base 0), 2 this step's tokens
// written at their positions (base pos0: the K and V projections store
// straight into the KV cache). accumulate adds into Y: the residual add of a
// block's output projection, fused. The bias, and the step uniform's binding
// after it, come from matmul_bias.wgsl or matmul_nobias.wgsl. w_first skips
// rows of the chunk: a part of a stacked matrix (GPT-2's Q, K and V) read
// where it lies, with row_offset then counted from that part's first row.
struct Params { rows: u32, cols: u32, row_offset: u32, out_stride: u32, in_stride: u32, accumulate: u32, rows_mode: u32, w_first: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

const TB: u32 = 8u;

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  let row_id = wg * slots + slot;
  let valid = row_id < p.rows;
  let row = min(row_id, p.rows - 1u);
  let n = select(step.n_tokens, step.n_out, p.rows_mode == 1u);
  let base = select(0u, step.pos0, p.rows_mode == 2u);
  let nblocks = p.cols / 32u;
  let wrow = (p.w_first + row) * nblocks * WBLOCK_WORDS;
  let xs = p.in_stride / 4u;
  var acc: array<f32, TB>;
  for (var t0 = 0u; t0 < n; t0 += TB) {
    for (var t = 0u; t < TB; t++) { acc[t] = 0.0; }
    let nt = min(TB, n - t0);
    for (var b = lane; b < nblocks; b += G) {
      // The whole block first: eight independent loads in flight at once,
      // rather than one load's latency per step of the dot product.
      let wb = wrow + b * WBLOCK_WORDS;
      var w: array<vec4<f32>, 8>;
      for (var j = 0u; j < 8u; j++) { w[j] = wblock4(wb, j); }
      let xo = t0 * xs + b * 8u;
      for (var t = 0u; t < nt; t++) {
        let xt = xo + t * xs;
        var x: array<vec4<f32>, 8>;
        for (var j = 0u; j < 8u; j++) { x[j] = X[xt + j]; }
        var s = 0.0;
        for (var j = 0u; j < 8u; j++) { s += dot(w[j], x[j]); }
        acc[t] += s;
      }
    }
    let lo = group_sum4(vec4<f32>(acc[0], acc[1], acc[2], acc[3]), lane);
    let hi = group_sum4(vec4<f32>(acc[4], acc[5], acc[6], acc[7]), lane);
    if (valid) {
      for (var t = lane; t < nt; t += G) {
        var v = select(hi[t & 3u], lo[t & 3u], t < 4u);
        if (HAS_BIAS) { v += out_bias(p.row_offset + row); }
        let o = (base + t0 + t) * p.out_stride + p.row_offset + row;
        if (p.accumulate != 0u) { v += Y[o]; }
        Y[o] = v;
      }
    }
  }
}
