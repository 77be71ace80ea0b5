// The first version, kept for wgpt-kbench (one lane a whole block; slower on
// the H200 than mvfmt_q4_0.wgsl, whose lanes share blocks).
// Q4_0 rows for matvec.wgsl in the upload's layout (wfmt_q4_0.wgsl: 5 words a
// block, the scale as f32 then ggml's 16 bytes): a unit is a block, 32
// elements. Word j holds elements 4j..4j+3 in its low nibbles and
// 16+4j..16+4j+3 in its high ones; the scale multiplies the block's sum once.
@group(0) @binding(1) var<storage, read> W: array<u32>;
const MV_UNIT: u32 = 32u;
struct WU { d: f32, q: vec4<u32> }
alias XU = array<vec4<f32>, 8>;
fn mv_w(i: u32) -> WU {
  let o = i * 5u;
  return WU(bitcast<f32>(W[o]), vec4<u32>(W[o + 1u], W[o + 2u], W[o + 3u], W[o + 4u]));
}
fn mv_x(u: u32) -> XU {
  var x: XU;
  for (var j = 0u; j < 8u; j++) { x[j] = xin(u * 8u + j); }
  return x;
}
fn q4x4(w: u32) -> vec4<f32> {
  return vec4<f32>(vec4<u32>(w & 15u, (w >> 8u) & 15u, (w >> 16u) & 15u, (w >> 24u) & 15u)) - vec4<f32>(8.0);
}
fn mv_dot(w: WU, x: XU) -> f32 {
  let s = dot(q4x4(w.q.x), x[0]) + dot(q4x4(w.q.y), x[1]) + dot(q4x4(w.q.z), x[2]) + dot(q4x4(w.q.w), x[3]) +
          dot(q4x4(w.q.x >> 4u), x[4]) + dot(q4x4(w.q.y >> 4u), x[5]) + dot(q4x4(w.q.z >> 4u), x[6]) +
          dot(q4x4(w.q.w >> 4u), x[7]);
  return s * w.d;
}
