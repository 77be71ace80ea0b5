// Q5_K for matmul_i8.wgsl: a block of 32 is Q4_K's 4 words of nibbles
// with their fifth bits in a word of their own (wfmt_q5_K.wgsl,
// kquant.wgsl's kq_vec4: word k's bits of half h at shift 4h + k), q
// unsigned 0 .. 31, bytes as they are; ggml's value is Q4_K's, d * scale *
// q - dmin * min (I8_MIN), with Q4_K's scale plane after the quants.
const I8_OFFSET: bool = false;
const I8_MIN: bool = true;
const I8_HALVES: bool = false;
fn i8_load(blk: u32, h: u32) -> vec4<u32> {
  let o = 5u * blk;
  let q = vec4<u32>(W[o], W[o + 1u], W[o + 2u], W[o + 3u]);
  let hs = vec4<u32>(4u * h) + vec4<u32>(0u, 1u, 2u, 3u);
  return ((q >> vec4<u32>(4u * h)) & vec4<u32>(0x0F0F0F0Fu)) | (((vec4<u32>(W[o + 4u]) >> hs) & vec4<u32>(0x01010101u)) << vec4<u32>(4u));
}
fn i8_words(raw: vec4<u32>, h: u32) -> vec4<u32> { return raw; }
// (d * scale, dmin * min) of block blk, as f32 bits (mmi8_q4_K.wgsl's)
fn i8_meta(blk: u32) -> vec2<u32> {
  let g = 40u * (arrayLength(&W) / 44u) + 4u * (blk >> 3u);
  return bitcast<vec2<u32>>(k4_dm(vec4<u32>(W[g], W[g + 1u], W[g + 2u], W[g + 3u]), blk & 7u));
}
