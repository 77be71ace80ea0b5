// Weight format Q4_K in the upload's two planes (dtype.h, dtype.c's
// repack_q45_K): a super-block's eight blocks of 32 at 4 words each in
// Q4_0's nibble order (kquant.wgsl), and after all the chunk's quants each
// super-block's 16 bytes of scales. No parameter says where that plane
// starts; the chunk's length does: n super-blocks take 32n words of quants
// and 4n of scales. wload fetches a word of quants and the super-block's
// scales, wdeq makes floats of them.
const WBLOCK_WORDS: u32 = 4u;
struct WRAW { q: u32, s: vec4<u32> }
fn wload(base: u32, j: u32) -> WRAW {
  let g = 32u * (arrayLength(&W) / 36u) + 4u * (base >> 5u);
  return WRAW(W[base + (j & 3u)], vec4<u32>(W[g], W[g + 1u], W[g + 2u], W[g + 3u]));
}
fn wdeq(r: WRAW, base: u32, j: u32) -> vec4<f32> {
  let dm = k4_dm(r.s, (base >> 2u) & 7u);
  return kq_vec4(r.q, 0u, j, 0u) * dm.x - dm.y;
}
fn wblock4(base: u32, j: u32) -> vec4<f32> { return wdeq(wload(base, j), base, j); }
