// Q4_0 for matmul_i8.wgsl: a block's 16 bytes (wfmt_q4_0.wgsl's planes)
// hold elements i and i + 16 in byte i's low and high nibbles, so the low
// nibbles of its 4 words are elements 0 .. 15 in order and the high ones
// 16 .. 31: half h is the words shifted by 4h, masked to bytes 0 .. 15. The
// quants are those bytes less 8, which the kernel takes off once a block as
// 8 times the sum of x's quants.
const I8_OFFSET: bool = true;
const I8_MIN: bool = false;
const I8_HALVES: bool = false;
fn i8_load(blk: u32, h: u32) -> vec4<u32> {
  let o = 4u * blk;
  return vec4<u32>(W[o], W[o + 1u], W[o + 2u], W[o + 3u]);
}
fn i8_words(raw: vec4<u32>, h: u32) -> vec4<u32> { return (raw >> vec4<u32>(4u * h)) & vec4<u32>(0x0F0F0F0Fu); }
fn i8_scale_word(blk: u32) -> u32 {
  let len = arrayLength(&W) / 4u;
  let n = len - (len + 8u) / 9u;
  return W[4u * n + (blk >> 1u)];
}
// (the block's f16 scale as f32 bits, nothing)
fn i8_meta(blk: u32) -> vec2<u32> {
  return vec2<u32>(bitcast<u32>(unpack2x16float(i8_scale_word(blk) >> (16u * (blk & 1u))).x), 0u);
}
