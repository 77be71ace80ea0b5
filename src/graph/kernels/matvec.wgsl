// Y[base][row_offset + r] (+)= dot(W[r], X[0]) (+ B[row_offset + r]): matmul.wgsl's
// contract and Params for a step whose count (tokens, or n_out for rows_mode 1)
// is one, the decode step. A decode step reads every weight once, so its
// speed is the bytes the lanes keep in flight: a group of lanes takes MV_ROWS
// rows, neighbouring lanes take neighbouring units of a row (MV_UNIT elements:
// one 16-byte load for F32/F16/BF16, a block for Q8_0/Q4_0), so a subgroup's
// loads are contiguous, and each lane issues MV_UNROLL units' loads for every
// row before it uses any. The x vector is read once per unit for all MV_ROWS
// rows, loaded before the weights' products or, with MV_XJIT, each unit
// just before its products (what a lane holds then is one x unit, not
// MV_UNROLL: more lanes fit a multiprocessor). MV_ROWS (at most 4),
// MV_UNROLL and MV_XJIT are set per format by whoever
// composes the kernel (kernels.c; tools/kbench.c tries others); the
// mvfmt_*.wgsl snippet supplies W, the unit types and mv_w/mv_x/mv_dot, the
// variant (mv_plain, mv_bias, mv_norm, mv_norm_bias) the bias, xin (x as the
// product reads it) and norm_scale (1, or the folded RMSNorm's 1/rms, known
// once every unit of x has been read).
// With MV_TOKENS > 1 (the multi variants: a batch's decode steps, whose
// tokens are each a sequence's, at their cache rows) a group takes its rows
// for MV_TOKENS tokens of the step, rows x token groups over the grid: each
// unit of weights is loaded once for them all, and each token's sums are
// made the same way whichever tokens share its group (the same units a
// lane, the same order), so that a token's result does not depend on the
// others in its step.
struct Params { rows: u32, cols: u32, row_offset: u32, out_stride: u32, in_stride: u32, accumulate: u32, rows_mode: u32, w_first: u32,
                eps: f32, x_row: u32, pad0: u32, pad1: u32 }
// x's first vec4: row 0, or with x_row set the row of the first wanted logits
// (the LM head reading the residual stream itself, its norm folded in)
var<private> xoff: u32;
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  let x0 = select(0u, step.out_first * (p.cols / 4u), p.x_row != 0u);
  var row0 = (wg * slots + slot) * MV_ROWS;
  var t0 = 0u;  // the group's first token
  var nt = 1u;  // and how many of its MV_TOKENS the step has
  if (MV_TOKENS > 1u) {
    let groups = (p.rows + MV_ROWS - 1u) / MV_ROWS;
    let n = select(step.n_tokens, step.n_out, p.rows_mode == 1u);
    t0 = (row0 / MV_ROWS) / groups * MV_TOKENS;
    row0 = (row0 / MV_ROWS) % groups * MV_ROWS;
    nt = select(0u, min(MV_TOKENS, n - t0), t0 < n); // no early return: the reductions' barriers are the workgroup's
  }
  let nu = p.cols / MV_UNIT;
  var rb: array<u32, MV_ROWS>;
  for (var r = 0u; r < MV_ROWS; r++) { rb[r] = (p.w_first + min(row0 + r, p.rows - 1u)) * nu; }
  var acc: array<vec4<f32>, MV_TOKENS>;
  for (var t = 0u; t < MV_TOKENS; t++) { acc[t] = vec4<f32>(0.0); }
  var u = lane;
  for (; u + (MV_UNROLL - 1u) * G < nu; u += MV_UNROLL * G) {
    var ws: array<WU, MV_ROWS * MV_UNROLL>;
    for (var r = 0u; r < MV_ROWS; r++) {
      for (var k = 0u; k < MV_UNROLL; k++) { ws[r * MV_UNROLL + k] = mv_w(rb[r] + u + k * G); }
    }
    // to the constant MV_TOKENS, so that the loop unrolls and acc stays in registers
    for (var t = 0u; t < MV_TOKENS; t++) {
      if (t >= nt) { break; }
      xoff = x0 + (t0 + t) * (p.cols / 4u);
      var xs: array<XU, MV_UNROLL>;
      if (!MV_XJIT) {
        for (var k = 0u; k < MV_UNROLL; k++) { xs[k] = mv_x(u + k * G); }
      }
      var s = vec4<f32>(0.0);
      for (var k = 0u; k < MV_UNROLL; k++) {
        var x: XU;
        if (MV_XJIT) { x = mv_x(u + k * G); } else { x = xs[k]; }
        for (var r = 0u; r < MV_ROWS; r++) { s[r] += mv_dot(ws[r * MV_UNROLL + k], x); }
      }
      acc[t] += s;
    }
  }
  for (; u < nu; u += G) {
    for (var t = 0u; t < MV_TOKENS; t++) {
      if (t >= nt) { break; }
      xoff = x0 + (t0 + t) * (p.cols / 4u);
      let x = mv_x(u);
      for (var r = 0u; r < MV_ROWS; r++) { acc[t][r] += mv_dot(mv_w(rb[r] + u), x); }
    }
  }
  var scale = 1.0;
  if (HAS_NORM) { scale = norm_scale(lane, G); } // after the product: it sums x's squares from the product's loads
  for (var t = 0u; t < MV_TOKENS; t++) {
    let tot = group_sum4(acc[t], lane) * scale;
    let row = row0 + lane;
    if (t < nt && lane < MV_ROWS && row < p.rows) {
      var v = tot[lane];
      if (HAS_BIAS) { v += out_bias(p.row_offset + row); }
      let o = select(t0 + t, step_row(t0 + t), p.rows_mode == 2u) * p.out_stride + p.row_offset + row;
      if (p.accumulate != 0u) { v += Y[o]; }
      Y[o] = v;
    }
  }
}
