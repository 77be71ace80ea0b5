// Q4_0 rows for matvec.wgsl in the upload's layout (wfmt_q4_0.wgsl: 5 words a
// block, the scale as f32 then ggml's 16 bytes). A unit is one quant word, 8
// elements: its low nibbles are elements 4j..4j+3 of the block, its high ones
// 16+4j..16+4j+3. Neighbouring lanes take neighbouring words, so a
// subgroup's loads cover whole blocks contiguously (a lane per block, as in
// mvfmt_q4_0_block.wgsl, strides them 20 bytes apart), and the block's four
// lanes read its scale word together.
@group(0) @binding(1) var<storage, read> W: array<u32>;
const MV_UNIT: u32 = 8u;
struct WU { d: f32, q: u32 }
struct XU { lo: vec4<f32>, hi: vec4<f32> }
fn mv_w(i: u32) -> WU {
  let o = (i >> 2u) * 5u;
  return WU(bitcast<f32>(W[o]), W[o + 1u + (i & 3u)]);
}
fn mv_x(u: u32) -> XU {
  let o = (u >> 2u) * 8u + (u & 3u);
  return XU(xin(o), xin(o + 4u));
}
fn q4x4(w: u32) -> vec4<f32> {
  return vec4<f32>(vec4<u32>(w & 15u, (w >> 8u) & 15u, (w >> 16u) & 15u, (w >> 24u) & 15u)) - vec4<f32>(8.0);
}
fn mv_dot(w: WU, x: XU) -> f32 { return (dot(q4x4(w.q), x.lo) + dot(q4x4(w.q >> 4u), x.hi)) * w.d; }
