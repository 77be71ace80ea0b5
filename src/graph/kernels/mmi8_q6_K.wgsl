// Q6_K for matmul_i8.wgsl: half h of a block of 32 (16 elements) is the
// nibbles of its 4 quant words at shift 4h with two high bits each from the
// block's 2 high words (wfmt_q6_K.wgsl, kquant.wgsl's kq_vec4), q in 0 ..
// 63, made the signed bytes q - 32 here: bit 5 flipped gives q - 32 in six
// bits, two's complement, and copying it into bits 6 and 7 widens that to a
// byte, each byte alone. Each half has its own signed 8-bit scale (ggml's,
// one per 16 elements), so the kernel sums the halves apart, each times its
// scale, exactly in i32, then scales by the super-block's d (I8_HALVES).
const I8_OFFSET: bool = false;
const I8_MIN: bool = false;
const I8_HALVES: bool = true;
fn i8_load(blk: u32, h: u32) -> vec4<u32> {
  let o = 6u * blk;
  let q = vec4<u32>(W[o], W[o + 1u], W[o + 2u], W[o + 3u]);
  let hw = vec4<u32>(W[o + 4u], W[o + 4u], W[o + 5u], W[o + 5u]);
  let hs = vec4<u32>(4u * h, 4u * h + 2u, 4u * h, 4u * h + 2u);
  let v = ((q >> vec4<u32>(4u * h)) & vec4<u32>(0x0F0F0F0Fu)) | (((hw >> hs) & vec4<u32>(0x03030303u)) << vec4<u32>(4u));
  let t = v ^ vec4<u32>(0x20202020u);
  let s = t & vec4<u32>(0x20202020u);
  return t | (s << vec4<u32>(1u)) | (s << vec4<u32>(2u));
}
fn i8_words(raw: vec4<u32>, h: u32) -> vec4<u32> { return raw; }
// (d as f32 bits, the block's two scales: half 0's in bits 0 .. 7, half 1's
// in 8 .. 15)
fn i8_meta(blk: u32) -> vec2<u32> {
  let g = 48u * q6_supers(arrayLength(&W)) + 5u * (blk >> 3u);
  let b = blk & 7u;
  let w = (W[g + (b >> 1u)] >> (8u * (b & 1u))) & 0x00FF00FFu; // plus 128 (wfmt_q6_K.wgsl)
  return vec2<u32>(bitcast<u32>(unpack2x16float(W[g + 4u]).x), ((w | (w >> 8u)) & 0xFFFFu) ^ 0x8080u);
}
