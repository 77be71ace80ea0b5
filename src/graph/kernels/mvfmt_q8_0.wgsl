// Q8_0 rows for matvec.wgsl in the upload's layout (wfmt_q8_0.wgsl: 9 words a
// block, the scale as f32 then 32 signed bytes). A unit is two quant words,
// 8 elements (8p..8p+7 of the block for unit p of its four). Neighbouring
// lanes take neighbouring units, so a subgroup's loads cover whole blocks
// contiguously (a lane per block, as in mvfmt_q8_0_block.wgsl, strides them
// 36 bytes apart), and the block's four lanes read its scale word together.
@group(0) @binding(1) var<storage, read> W: array<u32>;
const MV_UNIT: u32 = 8u;
struct WU { d: f32, a: u32, b: u32 }
struct XU { a: vec4<f32>, b: vec4<f32> }
fn mv_w(i: u32) -> WU {
  let o = (i >> 2u) * 9u;
  let q = o + 1u + 2u * (i & 3u);
  return WU(bitcast<f32>(W[o]), W[q], W[q + 1u]);
}
fn mv_x(u: u32) -> XU {
  let o = (u >> 2u) * 8u + 2u * (u & 3u);
  return XU(xin(o), xin(o + 1u));
}
fn q8x4(w: u32) -> vec4<f32> {
  let q = bitcast<i32>(w);
  return vec4<f32>(f32(extractBits(q, 0u, 8u)), f32(extractBits(q, 8u, 8u)), f32(extractBits(q, 16u, 8u)),
                   f32(extractBits(q, 24u, 8u)));
}
fn mv_dot(w: WU, x: XU) -> f32 { return (dot(q8x4(w.a), x.a) + dot(q8x4(w.b), x.b)) * w.d; }
