// Q8_0 for matmul_i8.wgsl: a block's 32 quants are 8 words of packed signed
// bytes already (wfmt_q8_0.wgsl's planes), so a half block is 4 words as
// they lie, and nothing is added back.
const I8_OFFSET: bool = false;
const I8_MIN: bool = false;
const I8_HALVES: bool = false;
fn i8_load(blk: u32, h: u32) -> vec4<u32> {
  let o = 8u * blk + 4u * h;
  return vec4<u32>(W[o], W[o + 1u], W[o + 2u], W[o + 3u]);
}
fn i8_words(raw: vec4<u32>, h: u32) -> vec4<u32> { return raw; }
fn i8_scale_word(blk: u32) -> u32 {
  let len = arrayLength(&W) / 4u;
  let n = 8u * (len / 17u) + (len % 17u) / 2u;
  return W[8u * n + (blk >> 1u)];
}
// (the block's f16 scale as f32 bits, nothing)
fn i8_meta(blk: u32) -> vec2<u32> {
  return vec2<u32>(bitcast<u32>(unpack2x16float(i8_scale_word(blk) >> (16u * (blk & 1u))).x), 0u);
}
