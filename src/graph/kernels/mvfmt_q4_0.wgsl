// Q4_0 rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q4_0.wgsl).
// A unit is a block, 32 elements, and its quants are one aligned 16-byte
// load: neighbouring lanes take neighbouring blocks, so a subgroup's quant
// loads cover 512 contiguous bytes, and eight lanes share the vec4 of the
// scale plane that holds their scales. Word j of the quants holds elements
// 4j..4j+3 in its low nibbles and 16+4j..16+4j+3 in its high ones; the scale
// multiplies the block's sum once.
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
const MV_UNIT: u32 = 32u;
struct WU { d: f32, q: vec4<u32> }
alias XU = array<vec4<f32>, 8>;
// Where the scale plane starts, in vec4s: the chunk's blocks, n, from its
// length, n + ceil(n / 8) vec4s (the scales padded to a whole vec4).
fn q4_blocks(len: u32) -> u32 { return len - (len + 8u) / 9u; }
fn q4_scale(s: vec4<u32>, i: u32) -> f32 { return unpack2x16float(s[(i >> 1u) & 3u] >> (16u * (i & 1u))).x; }
fn mv_w(i: u32) -> WU { return WU(q4_scale(W[q4_blocks(arrayLength(&W)) + (i >> 3u)], i), W[i]); }
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
