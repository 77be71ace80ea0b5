// Q4_K rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q4_K.wgsl):
// kquant.wgsl's K4U units.
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
const MV_UNIT: u32 = 16u;
alias WU = K4U;
alias XU = KXU;
fn mv_w(u: u32) -> WU {
  let g = k4_scales_at(arrayLength(&W), u);
  return k4_unit(W[u >> 1u], W[g], u);
}
fn mv_x(u: u32) -> XU {
  let o = (u >> 1u) * 8u + 2u * (u & 1u);
  return kx_unit(xin(o), xin(o + 1u), xin(o + 4u), xin(o + 5u));
}
fn mv_dot(w: WU, x: XU) -> f32 { return k4_dot(w, x); }
