// Weight format Q4_0 in the upload's two planes (dtype.h): block b's 16 bytes
// of quants at word 4b, ggml's bytes unchanged (element i is the low nibble
// of byte i, element i+16 the high nibble), and its f16 scale in the scale
// plane after all the chunk's quants, two to a word. No parameter says where
// that plane starts; the chunk's length does: n blocks take 4n words of
// quants and n halves padded to whole vec4s, 36 words for every 8 blocks.
// wload fetches a word of quants and the scale's word, wdeq makes floats of
// them (apart, as in wfmt_f32.wgsl).
const WBLOCK_WORDS: u32 = 4u;
alias WRAW = vec2<u32>;
fn wload(base: u32, j: u32) -> WRAW {
  let len = arrayLength(&W) / 4u;
  let n = len - (len + 8u) / 9u;
  return vec2<u32>(W[base + (j & 3u)], W[4u * n + (base >> 3u)]);
}
fn wdeq(r: WRAW, base: u32, j: u32) -> vec4<f32> {
  let d = unpack2x16float(r.y >> (16u * ((base >> 2u) & 1u))).x;
  let q = r.x >> (4u * (j >> 2u));
  let v = vec4<u32>(q & 15u, (q >> 8u) & 15u, (q >> 16u) & 15u, (q >> 24u) & 15u);
  return (vec4<f32>(v) - vec4<f32>(8.0)) * d;
}
fn wblock4(base: u32, j: u32) -> vec4<f32> { return wdeq(wload(base, j), base, j); }
