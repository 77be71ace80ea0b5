// Weight format F16, two halves per word (no shader-f16 needed).
const WBLOCK_WORDS: u32 = 16u;
fn wblock4(base: u32, j: u32) -> vec4<f32> {
  let a = unpack2x16float(W[base + 2u * j]);
  let b = unpack2x16float(W[base + 2u * j + 1u]);
  return vec4<f32>(a.x, a.y, b.x, b.y);
}
