// Q4_K for matmul_i8.wgsl: a block of 32 is Q4_0's 4 words of nibbles
// (wfmt_q4_K.wgsl), unsigned 0 .. 15, and ggml's value d * scale * q - dmin *
// min; so the kernel scales each block's sum of quant products by d * scale
// and takes off dmin * min times the sum of x's quants, in floats (I8_MIN).
// Both factors are exact in f32 (kquant.wgsl's k4_dm).
const I8_OFFSET: bool = false;
const I8_MIN: bool = true;
const I8_HALVES: bool = false;
fn i8_load(blk: u32, h: u32) -> vec4<u32> {
  let o = 4u * blk;
  return vec4<u32>(W[o], W[o + 1u], W[o + 2u], W[o + 3u]);
}
fn i8_words(raw: vec4<u32>, h: u32) -> vec4<u32> { return (raw >> vec4<u32>(4u * h)) & vec4<u32>(0x0F0F0F0Fu); }
// (d * scale, dmin * min) of block blk, as f32 bits
fn i8_meta(blk: u32) -> vec2<u32> {
  let g = 32u * (arrayLength(&W) / 36u) + 4u * (blk >> 3u);
  let dm = k4_dm(vec4<u32>(W[g], W[g + 1u], W[g + 2u], W[g + 3u]), blk & 7u);
  return bitcast<vec2<u32>>(dm);
}
