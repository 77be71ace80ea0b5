// Weight format F32: a 32-element block is 32 words. wload fetches the
// words of elements 4j .. 4j + 3 and wdeq makes them floats: apart, so a
// kernel can start the loads of its next stage before the work of this one
// (matmul.wgsl); wblock4 is the two at once.
const WBLOCK_WORDS: u32 = 32u;
alias WRAW = vec4<u32>;
fn wload(base: u32, j: u32) -> WRAW {
  let o = base + 4u * j;
  return vec4<u32>(W[o], W[o + 1u], W[o + 2u], W[o + 3u]);
}
fn wdeq(r: WRAW, base: u32, j: u32) -> vec4<f32> { return bitcast<vec4<f32>>(r); }
fn wblock4(base: u32, j: u32) -> vec4<f32> { return wdeq(wload(base, j), base, j); }
