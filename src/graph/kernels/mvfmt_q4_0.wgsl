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
fn mv_dot(w: WU, x: XU) -> f32 { return (q4d(w.q.x, x.a, x.c) + q4d(w.q.y, x.b, x.d)) * w.d; }
