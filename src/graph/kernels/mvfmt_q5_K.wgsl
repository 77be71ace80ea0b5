// Q5_K rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q5_K.wgsl):
// kquant.wgsl's K5U units.
@group(0) @binding(1) var<storage, read> W: array<u32>;
const MV_UNIT: u32 = 16u;
alias WU = K5U;
alias XU = KXU;
fn mv_w(u: u32) -> WU {
  let b = 5u * (u >> 1u);
  let q = b + 2u * (u & 1u);
  let g = k5_scales_at(arrayLength(&W), u);
  return k5_unit(W[q], W[q + 1u], W[b + 4u], vec4<u32>(W[g], W[g + 1u], W[g + 2u], W[g + 3u]), u);
}
fn mv_x(u: u32) -> XU {
  let o = (u >> 1u) * 8u + 2u * (u & 1u);
  return kx_unit(xin(o), xin(o + 1u), xin(o + 4u), xin(o + 5u));
}
fn mv_dot(w: WU, x: XU) -> f32 { return k5_dot(w, x); }
