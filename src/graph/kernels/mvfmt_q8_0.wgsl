// Q8_0 rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q8_0.wgsl).
// A unit is half a block, 16 elements, its quants one aligned 16-byte load
// (vec4 i of the quant plane is unit i): neighbouring lanes take
// neighbouring halves, so a subgroup's quant loads cover 512 contiguous
// bytes, as F16's do, and a block's two lanes read its scale together
// (mvfmt_q8_0_block.wgsl, a lane per block, has each load stride 32 bytes).
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
const MV_UNIT: u32 = 16u;
struct WU { d: f32, q: vec4<u32> }
// fields, not an array: matvec keeps an array of these (xs), and arrays of
// arrays went to local memory on the H200
struct XU { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }
// Where the scale plane starts is twice the chunk's blocks, n, in vec4s;
// n from its length, 2n + ceil(n / 8) vec4s (the scales padded to a whole vec4).
fn q8_blocks(len: u32) -> u32 { return 8u * (len / 17u) + (len % 17u) / 2u; }
fn q8_scale(w: u32, b: u32) -> f32 { return unpack2x16float(w >> (16u * (b & 1u))).x; }
fn mv_w(i: u32) -> WU { return WU(q8_scale(W[2u * q8_blocks(arrayLength(&W)) + (i >> 4u)][(i >> 2u) & 3u], i >> 1u), W[i]); }
fn mv_x(u: u32) -> XU { return XU(xin(4u * u), xin(4u * u + 1u), xin(4u * u + 2u), xin(4u * u + 3u)); }
fn q8x4(w: u32) -> vec4<f32> {
  let q = bitcast<i32>(w);
  return vec4<f32>(f32(extractBits(q, 0u, 8u)), f32(extractBits(q, 8u, 8u)), f32(extractBits(q, 16u, 8u)),
                   f32(extractBits(q, 24u, 8u)));
}
fn mv_dot(w: WU, x: XU) -> f32 {
  return (dot(q8x4(w.q.x), x.a) + dot(q8x4(w.q.y), x.b) + dot(q8x4(w.q.z), x.c) + dot(q8x4(w.q.w), x.d)) * w.d;
}
