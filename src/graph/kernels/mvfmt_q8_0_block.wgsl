// The first version, kept for wgpt-kbench (one lane a whole block; slower on
// the H200 than mvfmt_q8_0.wgsl, whose lanes share blocks).
// Q8_0 rows for matvec.wgsl in the upload's layout (wfmt_q8_0.wgsl: 9 words a
// block, the scale as f32 then 32 signed bytes): a unit is a block, 32
// elements; the scale multiplies the block's sum once.
@group(0) @binding(1) var<storage, read> W: array<u32>;
const MV_UNIT: u32 = 32u;
struct WU { d: f32, q0: vec4<u32>, q1: vec4<u32> }
alias XU = array<vec4<f32>, 8>;
fn mv_w(i: u32) -> WU {
  let o = i * 9u;
  return WU(bitcast<f32>(W[o]), vec4<u32>(W[o + 1u], W[o + 2u], W[o + 3u], W[o + 4u]),
            vec4<u32>(W[o + 5u], W[o + 6u], W[o + 7u], W[o + 8u]));
}
fn mv_x(u: u32) -> XU {
  var x: XU;
  for (var j = 0u; j < 8u; j++) { x[j] = xin(u * 8u + j); }
  return x;
}
fn q8x4(w: u32) -> vec4<f32> {
  let q = bitcast<i32>(w);
  return vec4<f32>(f32(extractBits(q, 0u, 8u)), f32(extractBits(q, 8u, 8u)), f32(extractBits(q, 16u, 8u)),
                   f32(extractBits(q, 24u, 8u)));
}
fn mv_dot(w: WU, x: XU) -> f32 {
  let s = dot(q8x4(w.q0.x), x[0]) + dot(q8x4(w.q0.y), x[1]) + dot(q8x4(w.q0.z), x[2]) + dot(q8x4(w.q0.w), x[3]) +
          dot(q8x4(w.q1.x), x[4]) + dot(q8x4(w.q1.y), x[5]) + dot(q8x4(w.q1.z), x[6]) + dot(q8x4(w.q1.w), x[7]);
  return s * w.d;
}
