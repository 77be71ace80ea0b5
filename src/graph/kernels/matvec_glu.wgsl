// G[r] = act(dot(Wg[r], xn)) * dot(Wu[r], xn), xn = RMSNorm(X[0]) * NW: the
// feed-forward's gate and up projections, their activation (act 0: SiLU as
// swiglu.wgsl, 1: GELU as gelu.wgsl) and the ffn norm before them, in one
// dispatch for a decode step (one token). matvec.wgsl's scheme with two
// matrices: a group takes MV_ROWS (at most 2) rows of each, the x unit it
// loads serving all of them. Wg is W (mvfmt_*.wgsl), Wu is W2 (mvfmt2_*.wgsl).
struct Params { rows: u32, cols: u32, row_offset: u32, out_stride: u32, in_stride: u32, accumulate: u32, rows_mode: u32, w_first: u32,
                eps: f32, act: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read> NW: array<vec4<f32>>;
@group(0) @binding(6) var<uniform> step: Step;
var<private> xoff: u32; // x is row 0 (mv_norm_common.wgsl reads from xoff)

fn kernel(wg: u32, slot: u32, slots: u32, lane: u32, G: u32) {
  if (step.n_tokens != 1u) { return; } // a decode step's kernel only (the graph dispatches it so)
  let row0 = (wg * slots + slot) * MV_ROWS;
  let nu = p.cols / MV_UNIT;
  var rb: array<u32, MV_ROWS>;
  for (var r = 0u; r < MV_ROWS; r++) { rb[r] = min(row0 + r, p.rows - 1u) * nu; }
  var acc = vec4<f32>(0.0); // gate rows in .xy, up rows in .zw
  var u = lane;
  for (; u + (MV_UNROLL - 1u) * G < nu; u += MV_UNROLL * G) {
    var xs: array<XU, MV_UNROLL>;
    var wg_: array<WU, MV_ROWS * MV_UNROLL>;
    var wu_: array<WU, MV_ROWS * MV_UNROLL>;
    for (var k = 0u; k < MV_UNROLL; k++) { xs[k] = mv_x(u + k * G); }
    for (var r = 0u; r < MV_ROWS; r++) {
      for (var k = 0u; k < MV_UNROLL; k++) {
        wg_[r * MV_UNROLL + k] = mv_w(rb[r] + u + k * G);
        wu_[r * MV_UNROLL + k] = mv_w2(rb[r] + u + k * G);
      }
    }
    for (var r = 0u; r < MV_ROWS; r++) {
      var sg = 0.0;
      var su = 0.0;
      for (var k = 0u; k < MV_UNROLL; k++) {
        sg += mv_dot(wg_[r * MV_UNROLL + k], xs[k]);
        su += mv_dot(wu_[r * MV_UNROLL + k], xs[k]);
      }
      acc[r] += sg;
      acc[2u + r] += su;
    }
  }
  for (; u < nu; u += G) {
    let x = mv_x(u);
    for (var r = 0u; r < MV_ROWS; r++) {
      acc[r] += mv_dot(mv_w(rb[r] + u), x);
      acc[2u + r] += mv_dot(mv_w2(rb[r] + u), x);
    }
  }
  let scale = norm_scale(lane, G); // after the product, whose loads gave x's squares
  let tot = group_sum4(acc, lane) * scale;
  let row = row0 + lane;
  if (lane < MV_ROWS && row < p.rows) {
    let g = tot[lane];
    var y: f32;
    if (p.act == 0u) {
      y = g / (1.0 + exp(-g));
    } else {
      let t = 0.7978845608028654 * g * (1.0 + 0.044715 * g * g);
      y = g / (1.0 + exp(-2.0 * t));
    }
    Y[row] = y * tot[2u + lane];
  }
}
