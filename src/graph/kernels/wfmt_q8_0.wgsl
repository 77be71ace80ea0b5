// Weight format Q8_0 in the upload's two planes (dtype.h): block b's 32
// signed bytes at word 8b, and its f16 scale in the scale plane after all
// the chunk's quants, two to a word. No parameter says where that plane
// starts; the chunk's length does: n blocks take 8n words of quants and n
// halves padded to whole vec4s, 68 words for every 8 blocks. wload fetches
// a word of quants and the scale's word, wdeq makes floats of them (apart,
// as in wfmt_f32.wgsl).
const WBLOCK_WORDS: u32 = 8u;
alias WRAW = vec2<u32>;
fn wload(base: u32, j: u32) -> WRAW {
  let len = arrayLength(&W) / 4u;
  let n = 8u * (len / 17u) + (len % 17u) / 2u;
  return vec2<u32>(W[base + j], W[8u * n + (base >> 4u)]);
}
fn wdeq(r: WRAW, base: u32, j: u32) -> vec4<f32> {
  let d = unpack2x16float(r.y >> (16u * ((base >> 3u) & 1u))).x;
  let q = bitcast<i32>(r.x);
  return vec4<f32>(f32(extractBits(q, 0u, 8u)), f32(extractBits(q, 8u, 8u)),
                   f32(extractBits(q, 16u, 8u)), f32(extractBits(q, 24u, 8u))) * d;
}
fn wblock4(base: u32, j: u32) -> vec4<f32> { return wdeq(wload(base, j), base, j); }
