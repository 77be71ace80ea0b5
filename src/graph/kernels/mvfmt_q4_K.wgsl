// Q4_K rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q4_K.wgsl).
// A unit is half a block's quant bytes, as mvfmt_q4_0.wgsl's (the same
// nibble order, so the same x), with its block's scale and min; the 16
// units of a super-block read its scales' two vec2s, n super-blocks' after
// 16n vec2s of quants, 18n vec2s in all.
@group(0) @binding(1) var<storage, read> W: array<vec2<u32>>;
const MV_UNIT: u32 = 16u;
struct WU { dm: vec2<f32>, q: vec2<u32> }
struct XU { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }
fn k4_scales_at(len: u32, u: u32) -> u32 { return 16u * (len / 18u) + 2u * (u >> 4u); }
fn k4_unit(q: vec2<u32>, s0: vec2<u32>, s1: vec2<u32>, u: u32) -> WU {
  return WU(k4_dm(vec4<u32>(s0, s1), (u >> 1u) & 7u), q);
}
fn mv_w(u: u32) -> WU {
  let g = k4_scales_at(arrayLength(&W), u);
  return k4_unit(W[u], W[g], W[g + 1u], u);
}
fn mv_x(u: u32) -> XU {
  let o = (u >> 1u) * 8u + 2u * (u & 1u);
  return XU(xin(o), xin(o + 1u), xin(o + 4u), xin(o + 5u));
}
fn mv_dot(w: WU, x: XU) -> f32 {
  return kq_dot(w.q.x, 0u, 0u, 0.0, x.a, x.c, w.dm, w.dm) + kq_dot(w.q.y, 0u, 0u, 0.0, x.b, x.d, w.dm, w.dm);
}
