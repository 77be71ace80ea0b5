// onnx_q4 rows for matvec.wgsl in the upload's planes (dtype.h,
// wfmt_onnx_q4.wgsl), read as mvfmt_q4_0.wgsl reads Q4_0's: a unit is half
// a block's quant bytes, one 8-byte load; a block's scale and zero point are
// one vec2 of the scale plane. The zero point z enters once a unit: the
// nibbles are taken less 8 as Q4_0's are, and (8 - z) times the sum of the
// unit's x added back.
@group(0) @binding(1) var<storage, read> W: array<vec2<u32>>;
const MV_UNIT: u32 = 16u;
struct WU { s: vec2<f32>, q: vec2<u32> }
struct XU { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }
// Where the scale plane starts, 2n vec2s for the chunk's n blocks; n from
// the chunk's length, 3n vec2s (3n + 1 for odd n: the plane padded to 16 bytes).
fn oq4_blocks(len: u32) -> u32 { return len / 3u; }
fn mv_w(u: u32) -> WU { return WU(bitcast<vec2<f32>>(W[2u * oq4_blocks(arrayLength(&W)) + (u >> 1u)]), W[u]); }
fn mv_x(u: u32) -> XU {
  let o = (u >> 1u) * 8u + 2u * (u & 1u);
  return XU(xin(o), xin(o + 1u), xin(o + 4u), xin(o + 5u));
}
// q4d: q4_nibbles.wgsl's, the nibbles less 8.
fn mv_dot(w: WU, x: XU) -> f32 {
  let sx = dot((x.a + x.b) + (x.c + x.d), vec4<f32>(1.0));
  return (q4d(w.q.x, x.a, x.c) + q4d(w.q.y, x.b, x.d) + (8.0 - w.s.y) * sx) * w.s.x;
}
