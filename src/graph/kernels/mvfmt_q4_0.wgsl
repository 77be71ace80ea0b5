// Q4_0 rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q4_0.wgsl).
// A unit is half a block's quant bytes, one aligned 8-byte load: bytes
// 8h..8h+7 of block u/2 (h = u % 2) hold elements 8h..8h+7 in their low
// nibbles and 16+8h..16+8h+7 in their high ones. Neighbouring lanes take
// neighbouring halves, so a subgroup's quant loads cover 256 contiguous
// bytes, and a block's two lanes read its scale word together. A whole block
// a lane (one 16-byte load) was slower on the H200, 3-5x: each lane then
// reads x in 128-byte runs, and x's loads, not the weights', set the pace.
@group(0) @binding(1) var<storage, read> W: array<vec2<u32>>;
const MV_UNIT: u32 = 16u;
struct WU { d: f32, q: vec2<u32> }
struct XU { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }
// Where the scale plane starts, 2n vec2s for the chunk's n blocks; n from
// the chunk's length, 2n + 2 ceil(n / 8) vec2s (the scales padded to 16 bytes).
fn q4_blocks(len: u32) -> u32 {
  let l = len / 2u;
  return l - (l + 8u) / 9u;
}
fn q4_scale(w: u32, b: u32) -> f32 { return unpack2x16float(w >> (16u * (b & 1u))).x; }
fn mv_w(u: u32) -> WU { return WU(q4_scale(W[2u * q4_blocks(arrayLength(&W)) + (u >> 3u)][(u >> 2u) & 1u], u >> 1u), W[u]); }
fn mv_x(u: u32) -> XU {
  let o = (u >> 1u) * 8u + 2u * (u & 1u);
  return XU(xin(o), xin(o + 1u), xin(o + 4u), xin(o + 5u));
}
// Nibbles become floats without integer conversions, which NVIDIA runs at a
// quarter of the rate of other arithmetic: two at a time under the f16
// exponent of 1024, whose mantissa step is 1, widened by unpack2x16float,
// then 1024 + 8 taken off exactly in f32. On the H200 (2026-11-30, tg128
// end to end) it beat the integer conversion by 2% where it was the only
// change, and a conversion through the mantissa of 2^23 gained nothing.
fn q4h(w: u32, s: u32) -> vec2<f32> { return unpack2x16float(((w >> s) & 0x000F000Fu) | 0x64006400u) - vec2<f32>(1032.0); }
// Four bytes of quants: low nibbles against x0, high ones against x1.
fn q4d(w: u32, x0: vec4<f32>, x1: vec4<f32>) -> f32 {
  let a = q4h(w, 0u);  // bytes 0 and 2, low nibbles
  let b = q4h(w, 8u);  // bytes 1 and 3
  let c = q4h(w, 4u);  // bytes 0 and 2, high nibbles
  let d = q4h(w, 12u); // bytes 1 and 3
  return dot(vec4<f32>(a.x, b.x, a.y, b.y), x0) + dot(vec4<f32>(c.x, d.x, c.y, d.y), x1);
}
fn mv_dot(w: WU, x: XU) -> f32 { return (q4d(w.q.x, x.a, x.c) + q4d(w.q.y, x.b, x.d)) * w.d; }
