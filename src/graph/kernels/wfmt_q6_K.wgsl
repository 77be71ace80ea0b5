// Weight format Q6_K in the upload's two planes (dtype.h, dtype.c's
// repack_q6_K): a super-block's eight blocks of 32 at 6 words each, Q4_0's
// nibbles in 4 and their top two bits in 2 (kquant.wgsl), and after all the
// chunk's quants each super-block's 16 scales, signed plus 128 (one per 16
// elements: a word holds two blocks', their low nibbles' in bytes 0 and 1,
// their high ones' in 2 and 3, dtype.c's repack_q6_K) and f16 d, in 5
// words; that plane is padded to whole vec4s, so n super-blocks take 48n +
// 4 ceil(5n / 4) words, 212 for every 4.
const WBLOCK_WORDS: u32 = 6u;
struct WRAW { q: vec2<u32>, s: vec2<u32> }
fn wload(base: u32, j: u32) -> WRAW {
  let g = 48u * q6_supers(arrayLength(&W)) + 5u * (base / 48u);
  let b = (base / 6u) & 7u;
  return WRAW(vec2<u32>(W[base + (j & 3u)], W[base + 4u + ((j & 3u) >> 1u)]), vec2<u32>(W[g + (b >> 1u)], W[g + 4u]));
}
fn wdeq(r: WRAW, base: u32, j: u32) -> vec4<f32> {
  let b = (base / 6u) & 7u;
  let sc = i32(extractBits(r.s.x, 8u * ((b & 1u) + 2u * (j >> 2u)), 8u)) - 128;
  let d = unpack2x16float(r.s.y).x * f32(sc);
  return (kq_vec4(r.q.x, r.q.y, j, 2u) - 32.0) * d;
}
fn wblock4(base: u32, j: u32) -> vec4<f32> { return wdeq(wload(base, j), base, j); }
