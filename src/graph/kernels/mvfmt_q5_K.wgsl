// Q5_K rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q5_K.wgsl):
// kquant.wgsl's K5U units. The plane is read as vec4s so that a super-block's
// scales are one 16-byte load (44n words for n super-blocks, 11n vec4s),
// as Q4_K's (kquant.wgsl's k4_unit); a unit's words are single ones.
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
const MV_UNIT: u32 = 16u;
alias WU = K5U;
alias XU = KXU;
fn mv_w(u: u32) -> WU {
  let b = 5u * (u >> 1u);
  let q = b + 2u * (u & 1u);
  let g = k5_scales_at(4u * arrayLength(&W), u);
  return k5_unit(W[q >> 2u][q & 3u], W[(q + 1u) >> 2u][(q + 1u) & 3u], W[(b + 4u) >> 2u][(b + 4u) & 3u], W[g >> 2u], u);
}
fn mv_x(u: u32) -> XU {
  let o = (u >> 1u) * 8u + 2u * (u & 1u);
  return kx_unit(xin(o), xin(o + 1u), xin(o + 4u), xin(o + 5u));
}
fn mv_dot(w: WU, x: XU) -> f32 { return k5_dot(w, x); }
