// matvec_qkv.wgsl with V of Q's and K's type (or none): matrix m's unit.
const V_OWN = false;
fn qkv_w(m: u32, i: u32) -> WU {
  if (m == 0u) { return mv_w(i); }
  if (m == 1u) { return mv_w2(i); }
  return mv_w3(i);
}
fn v_rows(rb: array<u32, MV_ROWS>, lane: u32, G: u32) -> vec4<f32> { return vec4<f32>(0.0); }
