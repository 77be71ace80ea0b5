// G[r] = act(dot(Wg[r], xn)) * dot(Wu[r], xn), xn = RMSNorm(X[0]) * NW: the
// feed-forward's gate and up projections, their activation (act 0: SiLU as
// swiglu.wgsl, 1: GELU as gelu.wgsl) and the ffn norm before them, in one
// dispatch for a decode step (one token). matvec.wgsl's scheme with two
// matrices: a group takes MV_ROWS (at most 2) rows of each, the x unit it
// loads serving all of them. Wg is W (mvfmt_*.wgsl), Wu is W2 (mvfmt2_*.wgsl).
// Ungated (GLU_GATED false, mv_glu_up.wgsl): G[r] = act(dot(W[r], xn) + b[r]),
// xn = LayerNorm(X[0]) (GPT-2's up projection and GELU; act 2: none, its LM
// head, where x_row set reads x's row out_first in steps of one n_out); the
// bias, where bias_at is set, is read from NW at float bias_at + r, after the
// norm's vectors (a binding of its own would not leave the LM head's).
struct Params { rows: u32, cols: u32, row_offset: u32, out_stride: u32, in_stride: u32, accumulate: u32, rows_mode: u32, w_first: u32,
                eps: f32, act: u32, bias_at: u32, x_row: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read> NW: array<vec4<f32>>;
@group(0) @binding(6) var<uniform> step: Step;
var<private> xoff: u32; // x's first vec4 (mv_norm_common.wgsl reads from xoff)

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  // a decode step's kernel only, or the LM head's in steps of one n_out (the graph dispatches it so)
  if (select(step.n_tokens, step.n_out, p.x_row != 0u) != 1u) { return; }
  xoff = select(0u, step.out_first * (p.cols / 4u), p.x_row != 0u);
  let row0 = (wg * slots + slot) * MV_ROWS;
  let nu = p.cols / MV_UNIT;
  var rb: array<u32, MV_ROWS>;
  for (var r = 0u; r < MV_ROWS; r++) { rb[r] = min(row0 + r, p.rows - 1u) * nu; }
  norm_begin(lane, G);
  var acc = vec4<f32>(0.0); // gate rows in .xy, up rows in .zw
  var u = lane;
  for (; u + (MV_UNROLL - 1u) * G < nu; u += MV_UNROLL * G) {
    var xs: array<XU, MV_UNROLL>; // loaded first, or one by one with MV_XJIT (matvec.wgsl)
    if (!MV_XJIT) {
      for (var k = 0u; k < MV_UNROLL; k++) { xs[k] = mv_x(u + k * G); }
    }
    var wg_: array<WU, MV_ROWS * MV_UNROLL>;
    var wu_: array<WU, MV_ROWS * MV_UNROLL>;
    for (var r = 0u; r < MV_ROWS; r++) {
      for (var k = 0u; k < MV_UNROLL; k++) {
        wg_[r * MV_UNROLL + k] = mv_w(rb[r] + u + k * G);
        if (GLU_GATED) { wu_[r * MV_UNROLL + k] = mv_w2(rb[r] + u + k * G); }
      }
    }
    var s = vec4<f32>(0.0);
    for (var k = 0u; k < MV_UNROLL; k++) {
      var x: XU;
      if (MV_XJIT) { x = mv_x(u + k * G); } else { x = xs[k]; }
      for (var r = 0u; r < MV_ROWS; r++) {
        s[r] += mv_dot(wg_[r * MV_UNROLL + k], x);
        if (GLU_GATED) { s[2u + r] += mv_dot(wu_[r * MV_UNROLL + k], x); }
      }
    }
    acc += s;
  }
  for (; u < nu; u += G) {
    let x = mv_x(u);
    for (var r = 0u; r < MV_ROWS; r++) {
      acc[r] += mv_dot(mv_w(rb[r] + u), x);
      if (GLU_GATED) { acc[2u + r] += mv_dot(mv_w2(rb[r] + u), x); }
    }
  }
  let scale = norm_scale(lane, G); // after the product, whose loads gave x's squares
  let tot = group_sum4(acc, lane) * scale;
  let row = row0 + lane;
  if (lane < MV_ROWS && row < p.rows) {
    var g = tot[lane];
    if (p.bias_at != 0u) {
      let j = p.bias_at + row;
      g += NW[j / 4u][j % 4u];
    }
    var y: f32;
    if (p.act == 0u) {
      y = g / (1.0 + exp(-g));
    } else if (p.act == 2u) {
      y = g;
    } else {
      let t = 0.7978845608028654 * g * (1.0 + 0.044715 * g * g);
      y = g / (1.0 + exp(-2.0 * t));
    }
    if (GLU_GATED) { y *= tot[2u + lane]; }
    Y[row] = y;
  }
}
