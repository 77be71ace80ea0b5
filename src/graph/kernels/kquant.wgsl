// What the K-quant snippets (wfmt_, mmi8_, mvfmt_, mvfmt2_, mvfmt3_q4_K/
// q5_K/q6_K) share: a super-block's eight blocks of 32 as dtype.c's pack_k
// lays them out, Q4_0's nibbles (mvfmt_q4_0.wgsl) with the element's high
// bits (Q5_K one, Q6_K two) in a high word at the nibble's own shift, and
// Q4_K/Q5_K's scales; and each type's one-token unit. Values are ggml's:
// d * scale, times q, less dmin * min (Q6_K: d * scale times q - 32). Each
// product is exact in f32, an f16's 11 significant bits by a scale's 7 at
// most, then by a quant's 5 at most (Q6_K's -128 and -32 are powers of
// two), so where a kernel makes elements (kq_vec4) the one rounding, the
// subtraction's, is the CPU's, fused into a multiply-add or not.

// Block b (0..7) of a Q4_K/Q5_K super-block: (d * scale, dmin * min); s its
// 16 bytes of scales as dtype.c's repack_q45_K lays them out: d and dmin,
// the low nibbles (blocks 0-3 in s.y, 4-7 in s.z, the scale's at bit
// 4(b % 4), the min's 16 above), the top two bits (s.w, at bit 2b and 16
// above). The pair lands in two f16 lanes at once.
fn k4_dm(s: vec4<u32>, b: u32) -> vec2<f32> {
  let lo = (select(s.y, s.z, b >= 4u) >> (4u * (b & 3u))) & 0x000F000Fu;
  let hi = (s.w >> (2u * b)) & 0x00030003u;
  // scale and min under f16's exponent of 1024, as kq_pair's quants: no
  // integer conversions (a quarter of the rate of other arithmetic on
  // NVIDIA), the same exact values.
  return unpack2x16float(s.x) * (unpack2x16float(lo | (hi << 4u) | 0x64006400u) - vec2<f32>(1024.0));
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

// The one-token kernels' unpacking: the quants q (hb high bits each from h,
// shifted to w's place in it, under mask hm) of bytes 0 and 2 (or 1 and 3)
// of quant word w at shift s, as 1 + q / 2^(4 + hb): q in the top of an
// f16's mantissa under exponent 0, exact, widened by unpack2x16float, with
// no integer conversions (a quarter of the rate of other arithmetic on
// NVIDIA) and no subtraction an element (the unit's dot takes x's sums off
// once). A bias of 1024 (mvfmt_q4_0.wgsl's q4h, unsubtracted) would cancel
// 1024 times x's sum, ten bits of the result; 1 + q / 16 cancels x's sum.
fn kq_pair(w: u32, h: u32, hm: u32, s: u32, hb: u32) -> vec2<f32> {
  return unpack2x16float((((w >> s) & 0x000F000Fu) << (6u - hb)) | (((h >> s) & hm) << (10u - hb)) | 0x3C003C00u);
}

// A quant word of a unit, unscaled and biased (kq_pair): its low nibbles
// dotted with x0, its high ones with x1. The one-token snippets scale the
// sums, not each element: on NVIDIA those kernels are bound by their
// arithmetic as much as by their bytes. On the H200 (2026-12-01, tg128)
// the bias with mvfmt_q6_K.wgsl's 8-byte loads took Q4_K_M from 772 to 787
// and Q6_K from 751 to 761 against subtracting an element (the bias alone:
// 778 and 745).
fn kq_dots(w: u32, h: u32, hm: u32, hb: u32, x0: vec4<f32>, x1: vec4<f32>) -> vec2<f32> {
  let a = kq_pair(w, h, hm, 0u, hb);  // bytes 0 and 2, low nibbles
  let b = kq_pair(w, h, hm, 8u, hb);  // bytes 1 and 3
  let c = kq_pair(w, h, hm, 4u, hb);  // bytes 0 and 2, high nibbles
  let d = kq_pair(w, h, hm, 12u, hb); // bytes 1 and 3
  return vec2<f32>(dot(vec4<f32>(a.x, b.x, a.y, b.y), x0), dot(vec4<f32>(c.x, d.x, c.y, d.y), x1));
}

// The one-token snippets' x unit (the same for the three K-quants, so that
// a Q4_K or Q5_K projection can read a Q6_K matrix in the same kernel:
// mv_qkv_v_own.wgsl): sixteen elements, as Q4_0's, their sum, and the sum
// of the eight a unit's low nibbles meet (a and b: Q6_K's first scale).
struct KXU { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>, s: f32, lo: f32 }
fn kx_unit(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) -> KXU {
  let lo = dot(a + b, vec4<f32>(1.0));
  return KXU(a, b, c, d, lo + dot(c + d, vec4<f32>(1.0)), lo);
}

// Q4_K's one-token unit (mvfmt_q4_K.wgsl): half a block's quant bytes, as
// Q4_0's (the same nibble order, so the same x), with its block's scale
// and min. The snippets read the planes as vec4s: a unit's quants are half
// of one (neighbouring lanes read the two halves, the same bytes a
// subgroup), its super-block's 16 bytes of scales one more, so two loads a
// unit where vec2s took three; n super-blocks' scales after 8n vec4s of
// quants, 9n vec4s in all.
struct K4U { dm: vec2<f32>, q: vec2<u32> }
fn k4_unit(q: vec4<u32>, s: vec4<u32>, u: u32) -> K4U {
  return K4U(k4_dm(s, (u >> 1u) & 7u), select(q.xy, q.zw, (u & 1u) != 0u));
}
fn k4_scales_at(len: u32, u: u32) -> u32 { return 8u * (len / 9u) + (u >> 4u); }
fn k4_dot(w: K4U, x: KXU) -> f32 {
  let t = kq_dots(w.q.x, 0u, 0u, 0u, x.a, x.c) + kq_dots(w.q.y, 0u, 0u, 0u, x.b, x.d);
  return 16.0 * w.dm.x * (t.x + t.y - x.s) - w.dm.y * x.s;
}

// Q5_K's (mvfmt_q5_K.wgsl): Q4_K's with the block's word of fifth bits,
// shifted to the unit's quant words (2 and 3 for the second half); n
// super-blocks' scales after 40n words of quants, 44n words in all.
struct K5U { dm: vec2<f32>, q: vec2<u32>, h: u32 }
fn k5_scales_at(len: u32, u: u32) -> u32 { return 40u * (len / 44u) + 4u * (u >> 4u); }
fn k5_unit(q0: u32, q1: u32, h: u32, s: vec4<u32>, u: u32) -> K5U {
  return K5U(k4_dm(s, (u >> 1u) & 7u), vec2<u32>(q0, q1), h >> (2u * (u & 1u)));
}
fn k5_dot(w: K5U, x: KXU) -> f32 {
  let t = kq_dots(w.q.x, w.h, 0x00010001u, 1u, x.a, x.c) + kq_dots(w.q.y, w.h >> 1u, 0x00010001u, 1u, x.b, x.d);
  return 32.0 * w.dm.x * (t.x + t.y - x.s) - w.dm.y * x.s;
}

// Q6_K's one-token unit (mvfmt_q6_K.wgsl): two words of nibbles, the high
// word with their top bits, d times the block's two scales (its low
// nibbles' and its high ones'); n super-blocks' scales after 48n words of
// quants.
struct K6U { d: vec2<f32>, q: vec2<u32>, h: u32 }
fn q6_supers(len: u32) -> u32 { return 4u * (len / 212u) + (len % 212u) / 53u; }
fn k6_scales_at(len: u32, u: u32) -> u32 { return 48u * q6_supers(len) + 5u * (u >> 4u); }
// Where unit u's words lie in a Q6_K chunk of len words read as vec2s
// (mvfmt_q6_K.wgsl): its quant vec2, its block's high-word vec2 (the unit
// takes word u & 1), and the word indices of its scales and of d.
fn k6_words(len: u32, u: u32) -> vec4<u32> {
  let b = 3u * (u >> 1u);
  let g = k6_scales_at(len, u);
  return vec4<u32>(b + (u & 1u), b + 2u, g + ((u >> 2u) & 3u), g + 4u);
}
fn k6_unit(q0: u32, q1: u32, h: u32, sw: u32, dw: u32, u: u32) -> K6U {
  let d = unpack2x16float(dw).x;
  // the block's two scales, plus 128 (dtype.c's repack_q6_K), under f16's
  // exponent of 1024 (as k4_dm): exact, with no integer conversions
  let v = (sw >> (8u * ((u >> 1u) & 1u))) & 0x00FF00FFu;
  return K6U(d * (unpack2x16float(v | 0x64006400u) - vec2<f32>(1152.0)), vec2<u32>(q0, q1), h);
}
fn k6_dot(w: K6U, x: KXU) -> f32 {
  // q - 32 summed: 64 (t - x's sum), less 32 x's sum, for each scale's half
  let t = kq_dots(w.q.x, w.h, 0x00030003u, 2u, x.a, x.c) + kq_dots(w.q.y, w.h >> 2u, 0x00030003u, 2u, x.b, x.d);
  return dot(64.0 * t - 96.0 * vec2<f32>(x.lo, x.s - x.lo), w.d);
}
