// Weight format onnx_q4 (MatMulNBits' 4-bit blocks of 32 with a float scale
// and a zero point, formats/onnx.h) in the upload's two planes (dtype.h):
// block b's 16 bytes of quants at word 4b in Q4_0's nibble order (element i
// is the low nibble of byte i, element i+16 the high nibble), and after all
// the chunk's quants its f32 scale and its zero point as an f32, two words a
// block. No parameter says where that plane starts; the chunk's length
// does: n blocks take 4n words of quants and 2n of scales padded to whole
// vec4s, so 6n words (6n + 2 for odd n). As wfmt_q4_0.wgsl otherwise.
const WBLOCK_WORDS: u32 = 4u;
alias WRAW = vec3<u32>;
fn wload(base: u32, j: u32) -> WRAW {
  let s = 4u * (arrayLength(&W) / 6u) + 2u * (base >> 2u);
  return vec3<u32>(W[base + (j & 3u)], W[s], W[s + 1u]);
}
fn wdeq(r: WRAW, base: u32, j: u32) -> vec4<f32> {
  let q = r.x >> (4u * (j >> 2u));
  let v = vec4<u32>(q & 15u, (q >> 8u) & 15u, (q >> 16u) & 15u, (q >> 24u) & 15u);
  return (vec4<f32>(v) - vec4<f32>(bitcast<f32>(r.z))) * bitcast<f32>(r.y);
}
fn wblock4(base: u32, j: u32) -> vec4<f32> { return wdeq(wload(base, j), base, j); }
