// Q6_K rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q6_K.wgsl):
// kquant.wgsl's K6U units, half a block each, as mvfmt_q4_K.wgsl's.
@group(0) @binding(1) var<storage, read> W: array<u32>;
const MV_UNIT: u32 = 16u;
alias WU = K6U;
alias XU = KXU;
fn mv_w(u: u32) -> WU {
  let b = 6u * (u >> 1u);
  let q = b + 2u * (u & 1u);
  let g = k6_scales_at(arrayLength(&W), u);
  return k6_unit(W[q], W[q + 1u], W[b + 4u + (u & 1u)], W[g + ((u >> 2u) & 3u)], W[g + 4u], u);
}
fn mv_x(u: u32) -> XU {
  let o = (u >> 1u) * 8u + 2u * (u & 1u);
  return kx_unit(xin(o), xin(o + 1u), xin(o + 4u), xin(o + 5u));
}
fn mv_dot(w: WU, x: XU) -> f32 { return k6_dot(w, x); }
