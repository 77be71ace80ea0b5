// Weight format Q4_0, repacked at load to 5 words a block: the scale as f32,
// then ggml's 16 bytes unchanged (element i is the low nibble of byte i,
// element i+16 the high nibble).
const WBLOCK_WORDS: u32 = 5u;
fn wblock4(base: u32, j: u32) -> vec4<f32> {
  let d = bitcast<f32>(W[base]);
  let q = W[base + 1u + (j & 3u)] >> (4u * (j >> 2u));
  let n = vec4<u32>(q & 15u, (q >> 8u) & 15u, (q >> 16u) & 15u, (q >> 24u) & 15u);
  return (vec4<f32>(n) - vec4<f32>(8.0)) * d;
}
