// Weight format BF16, two per word: a bf16 is the top half of an f32, so the
// low half of a word widens by a shift and the high half by a mask. wload
// and wdeq as in wfmt_f32.wgsl.
const WBLOCK_WORDS: u32 = 16u;
alias WRAW = vec2<u32>;
fn wload(base: u32, j: u32) -> WRAW { return vec2<u32>(W[base + 2u * j], W[base + 2u * j + 1u]); }
fn wdeq(r: WRAW, base: u32, j: u32) -> vec4<f32> {
  return vec4<f32>(bitcast<f32>(r.x << 16u), bitcast<f32>(r.x & 0xffff0000u),
                   bitcast<f32>(r.y << 16u), bitcast<f32>(r.y & 0xffff0000u));
}
fn wblock4(base: u32, j: u32) -> vec4<f32> { return wdeq(wload(base, j), base, j); }
