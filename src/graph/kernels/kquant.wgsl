// What the K-quant snippets (wfmt_, mvfmt_, mvfmt2_, mvfmt3_q4_K/q5_K/q6_K)
// share: a super-block's eight blocks of 32 as dtype.c's pack_k lays them
// out, Q4_0's nibbles (mvfmt_q4_0.wgsl) with the element's high bits (Q5_K
// one, Q6_K two) in a high word at the nibble's own shift, and Q4_K/Q5_K's
// scales. Values are ggml's: d * scale, times q, less dmin * min (Q6_K:
// d * scale times q - 32). Each product is exact in f32, an f16's 11
// significant bits by a scale's 7 at most, then by a quant's 5 at most
// (Q6_K's -128 and -32 are powers of two), so the one rounding, the
// subtraction's, is the CPU's, fused into a multiply-add or not.

// Block b (0..7) of a Q4_K/Q5_K super-block: (d * scale, dmin * min); s its
// 16 bytes of scales, d and dmin then ggml's 12 packed bytes, read as
// get_scale_min_k4 reads them.
fn k4_dm(s: vec4<u32>, b: u32) -> vec2<f32> {
  let sh = 8u * (b & 3u);
  let a = (s.y >> sh) & 255u;
  let c = (s.z >> sh) & 255u;
  let e = (s.w >> sh) & 255u;
  let hi = b >= 4u;
  let sc = select(a & 63u, (e & 15u) | ((a >> 6u) << 4u), hi);
  let m = select(c & 63u, (e >> 4u) | ((c >> 6u) << 4u), hi);
  let dm = unpack2x16float(s.x);
  // sc and m to floats under f16's exponent of 1024, as kq_pair's quants:
  // no integer conversions (a quarter of the rate of other arithmetic on
  // NVIDIA), the same exact values.
  return dm * (unpack2x16float(sc | (m << 16u) | 0x64006400u) - vec2<f32>(1024.0));
}

// matmul.wgsl's vec4 j of a block, unsigned: from quant word q (word j % 4:
// its low nibbles for j < 4, its high ones after) and, with hbits high bits
// an element, the high word h that covers it (Q6_K's: word j % 4 / 2).
fn kq_vec4(q: u32, h: u32, j: u32, hbits: u32) -> vec4<f32> {
  let n = 4u * (j >> 2u);
  let k = j & 3u;
  var v = (q >> n) & 0x0F0F0F0Fu;
  if (hbits == 1u) { v |= ((h >> (n + k)) & 0x01010101u) << 4u; }
  if (hbits == 2u) { v |= ((h >> (n + 2u * (k & 1u))) & 0x03030303u) << 4u; }
  return vec4<f32>(vec4<u32>(v & 255u, (v >> 8u) & 255u, (v >> 16u) & 255u, v >> 24u));
}

// The one-token kernels' unpacking, as mvfmt_q4_0.wgsl's q4h: the nibbles of
// bytes 0 and 2 (or 1 and 3) of quant word w at shift s, with their high
// bits from h (shifted to w's place in it) under mask hm, less off, exactly.
fn kq_pair(w: u32, h: u32, hm: u32, s: u32, off: f32) -> vec2<f32> {
  return unpack2x16float(((w >> s) & 0x000F000Fu) | (((h >> s) & hm) << 4u) | 0x64006400u) - vec2<f32>(1024.0 + off);
}

// A quant word of a unit: its low nibbles dequantized by lo (scale, min)
// against x0, its high ones by hi against x1.
fn kq_dot(w: u32, h: u32, hm: u32, off: f32, x0: vec4<f32>, x1: vec4<f32>, lo: vec2<f32>, hi: vec2<f32>) -> f32 {
  let a = kq_pair(w, h, hm, 0u, off);  // bytes 0 and 2, low nibbles
  let b = kq_pair(w, h, hm, 8u, off);  // bytes 1 and 3
  let c = kq_pair(w, h, hm, 4u, off);  // bytes 0 and 2, high nibbles
  let d = kq_pair(w, h, hm, 12u, off); // bytes 1 and 3
  return dot(vec4<f32>(a.x, b.x, a.y, b.y) * lo.x - lo.y, x0) + dot(vec4<f32>(c.x, d.x, c.y, d.y) * hi.x - hi.y, x1);
}
