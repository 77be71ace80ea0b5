// Q6_K rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q6_K.wgsl):
// kquant.wgsl's K6U units, half a block each, as mvfmt_q4_K.wgsl's. A
// block is three vec2s of quants, two of nibbles (a unit's, one 8-byte
// load) and one of high words (a word a unit); n super-blocks' scales, five
// words each, after 48n words of quants. The planes are whole vec2s: a
// chunk is a multiple of 16 bytes (dtype_gpu_layout_of). One 8-byte load
// where two 4-byte ones were: with kquant.wgsl's biased quants, tg128 on the
// H200 (2026-12-01) Q6_K 745 to 761, Q4_K_M 778 to 787.
@group(0) @binding(1) var<storage, read> W: array<vec2<u32>>;
const MV_UNIT: u32 = 16u;
alias WU = K6U;
alias XU = KXU;
fn mv_w(u: u32) -> WU {
  let i = k6_words(2u * arrayLength(&W), u);
  let q = W[i.x];
  return k6_unit(q.x, q.y, W[i.y][u & 1u], W[i.z >> 1u][i.z & 1u], W[i.w >> 1u][i.w & 1u], u);
}
fn mv_x(u: u32) -> XU {
  let o = (u >> 1u) * 8u + 2u * (u & 1u);
  return kx_unit(xin(o), xin(o + 1u), xin(o + 4u), xin(o + 5u));
}
fn mv_dot(w: WU, x: XU) -> f32 { return k6_dot(w, x); }
