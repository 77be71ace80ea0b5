// Q5_K rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q5_K.wgsl).
// A unit is half a block, as mvfmt_q4_K.wgsl's: two words of nibbles and
// the block's word of fifth bits, shifted to the unit's quant words (2 and
// 3 for the second half), with its block's scale and min; n super-blocks'
// scales after 40n words of quants, 44n words in all.
@group(0) @binding(1) var<storage, read> W: array<u32>;
const MV_UNIT: u32 = 16u;
struct WU { dm: vec2<f32>, q: vec2<u32>, h: u32 }
struct XU { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }
fn k5_scales_at(len: u32, u: u32) -> u32 { return 40u * (len / 44u) + 4u * (u >> 4u); }
fn k5_unit(q0: u32, q1: u32, h: u32, s: vec4<u32>, u: u32) -> WU {
  return WU(k4_dm(s, (u >> 1u) & 7u), vec2<u32>(q0, q1), h >> (2u * (u & 1u)));
}
fn mv_w(u: u32) -> WU {
  let b = 5u * (u >> 1u);
  let q = b + 2u * (u & 1u);
  let g = k5_scales_at(arrayLength(&W), u);
  return k5_unit(W[q], W[q + 1u], W[b + 4u], vec4<u32>(W[g], W[g + 1u], W[g + 2u], W[g + 3u]), u);
}
fn mv_x(u: u32) -> XU {
  let o = (u >> 1u) * 8u + 2u * (u & 1u);
  return XU(xin(o), xin(o + 1u), xin(o + 4u), xin(o + 5u));
}
fn mv_dot(w: WU, x: XU) -> f32 {
  return kq_dot(w.q.x, w.h, 0x00010001u, 0.0, x.a, x.c, w.dm, w.dm) +
         kq_dot(w.q.y, w.h >> 1u, 0x00010001u, 0.0, x.b, x.d, w.dm, w.dm);
}
