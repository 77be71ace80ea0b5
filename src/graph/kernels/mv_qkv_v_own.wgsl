// matvec_qkv.wgsl with V of another K-quant than Q and K (llama.cpp's
// Q4_K_M and Q5_K_M give some layers' V Q6_K): its groups take v_rows,
// matvec_qkv.wgsl's loop over V's own units (mvfmt3_*.wgsl's WU3 and
// mv_dot3; x's units, KXU, are the same for every K-quant). On the H200
// (2026-12-01) the 1B Q4_K_M's eight such layers had each paid a dispatch
// of its own for V.
const V_OWN = true;
fn qkv_w(m: u32, i: u32) -> WU {
  if (m == 0u) { return mv_w(i); }
  return mv_w2(i);
}
fn v_rows(rb: array<u32, MV_ROWS>, lane: u32, G: u32) -> vec4<f32> {
  let nu = p.cols / MV_UNIT;
  var acc = vec4<f32>(0.0);
  var u = lane;
  for (; u + (MV_UNROLL - 1u) * G < nu; u += MV_UNROLL * G) {
    var xs: array<XU, MV_UNROLL>; // loaded first, or one by one with MV_XJIT (matvec.wgsl)
    if (!MV_XJIT) {
      for (var k = 0u; k < MV_UNROLL; k++) { xs[k] = mv_x(u + k * G); }
    }
    var ws: array<WU3, MV_ROWS * MV_UNROLL>;
    for (var r = 0u; r < MV_ROWS; r++) {
      for (var k = 0u; k < MV_UNROLL; k++) { ws[r * MV_UNROLL + k] = mv_w3(rb[r] + u + k * G); }
    }
    var s = vec4<f32>(0.0);
    for (var k = 0u; k < MV_UNROLL; k++) {
      var x: XU;
      if (MV_XJIT) { x = mv_x(u + k * G); } else { x = xs[k]; }
      for (var r = 0u; r < MV_ROWS; r++) { s[r] += mv_dot3(ws[r * MV_UNROLL + k], x); }
    }
    acc += s;
  }
  for (; u < nu; u += G) {
    let x = mv_x(u);
    for (var r = 0u; r < MV_ROWS; r++) { acc[r] += mv_dot3(mv_w3(rb[r] + u), x); }
  }
  return acc;
}
