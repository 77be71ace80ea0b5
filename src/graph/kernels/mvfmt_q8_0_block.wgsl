// For wgpt-kbench beside mvfmt_q8_0.wgsl: a lane a whole block, its quants
// two aligned 16-byte loads (each load of a subgroup strides 32 bytes; the
// pair covers 1024 contiguous ones), the x it multiplies eight vec4s
// (1.4-1.8x slower than half a block a lane on the H200, 2026-11-30).
// Q8_0 rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q8_0.wgsl):
// a unit is a block, 32 elements; the scale multiplies the block's sum once.
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
const MV_UNIT: u32 = 32u;
struct WU { d: f32, a: vec4<u32>, b: vec4<u32> }
struct XU { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>, e: vec4<f32>, f: vec4<f32>, g: vec4<f32>, h: vec4<f32> }
fn q8_blocks(len: u32) -> u32 { return 8u * (len / 17u) + (len % 17u) / 2u; }
fn q8_scale(w: u32, b: u32) -> f32 { return unpack2x16float(w >> (16u * (b & 1u))).x; }
fn mv_w(i: u32) -> WU {
  return WU(q8_scale(W[2u * q8_blocks(arrayLength(&W)) + (i >> 3u)][(i >> 1u) & 3u], i), W[2u * i], W[2u * i + 1u]);
}
fn mv_x(u: u32) -> XU {
  let o = u * 8u;
  return XU(xin(o), xin(o + 1u), xin(o + 2u), xin(o + 3u), xin(o + 4u), xin(o + 5u), xin(o + 6u), xin(o + 7u));
}
fn q8x4(w: u32) -> vec4<f32> {
  let q = bitcast<i32>(w);
  return vec4<f32>(f32(extractBits(q, 0u, 8u)), f32(extractBits(q, 8u, 8u)), f32(extractBits(q, 16u, 8u)),
                   f32(extractBits(q, 24u, 8u)));
}
fn mv_dot(w: WU, x: XU) -> f32 {
  let s = dot(q8x4(w.a.x), x.a) + dot(q8x4(w.a.y), x.b) + dot(q8x4(w.a.z), x.c) + dot(q8x4(w.a.w), x.d) +
          dot(q8x4(w.b.x), x.e) + dot(q8x4(w.b.y), x.f) + dot(q8x4(w.b.z), x.g) + dot(q8x4(w.b.w), x.h);
  return s * w.d;
}
