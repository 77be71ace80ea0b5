// Weight format BF16, two per word: a bf16 is the top half of an f32, so the
// low half of a word widens by a shift and the high half by a mask.
const WBLOCK_WORDS: u32 = 16u;
fn wblock4(base: u32, j: u32) -> vec4<f32> {
  let a = W[base + 2u * j];
  let b = W[base + 2u * j + 1u];
  return vec4<f32>(bitcast<f32>(a << 16u), bitcast<f32>(a & 0xffff0000u),
                   bitcast<f32>(b << 16u), bitcast<f32>(b & 0xffff0000u));
}
