// Weight format Q5_K in the upload's two planes (dtype.h, dtype.c's
// repack_q45_K): a super-block's eight blocks of 32 at 5 words each, Q4_0's
// nibbles in 4 and their fifth bits in one (kquant.wgsl), and after all the
// chunk's quants each super-block's 16 bytes of scales, as Q4_K's: n
// super-blocks take 40n words of quants and 4n of scales.
const WBLOCK_WORDS: u32 = 5u;
struct WRAW { q: vec2<u32>, s: vec4<u32> }
fn wload(base: u32, j: u32) -> WRAW {
  let g = 40u * (arrayLength(&W) / 44u) + 4u * (base / 40u);
  return WRAW(vec2<u32>(W[base + (j & 3u)], W[base + 4u]), vec4<u32>(W[g], W[g + 1u], W[g + 2u], W[g + 3u]));
}
fn wdeq(r: WRAW, base: u32, j: u32) -> vec4<f32> {
  let dm = k4_dm(r.s, (base / 5u) & 7u);
  return kq_vec4(r.q.x, r.q.y, j, 1u) * dm.x - dm.y;
}
fn wblock4(base: u32, j: u32) -> vec4<f32> { return wdeq(wload(base, j), base, j); }
