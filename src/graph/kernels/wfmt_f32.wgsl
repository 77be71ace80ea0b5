// Weight format F32: a 32-element block is 32 words.
const WBLOCK_WORDS: u32 = 32u;
fn wblock4(base: u32, j: u32) -> vec4<f32> {
  let o = base + 4u * j;
  return vec4<f32>(bitcast<f32>(W[o]), bitcast<f32>(W[o + 1u]), bitcast<f32>(W[o + 2u]), bitcast<f32>(W[o + 3u]));
}
