// Weight format Q8_0, repacked at load to 9 words a block: the f16 scale
// widened to f32, then 32 signed bytes (34 bytes are not word-aligned).
const WBLOCK_WORDS: u32 = 9u;
fn wblock4(base: u32, j: u32) -> vec4<f32> {
  let d = bitcast<f32>(W[base]);
  let q = i32(W[base + 1u + j]);
  return vec4<f32>(f32(extractBits(q, 0u, 8u)), f32(extractBits(q, 8u, 8u)),
                   f32(extractBits(q, 16u, 8u)), f32(extractBits(q, 24u, 8u))) * d;
}
