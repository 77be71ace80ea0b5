// Q6_K rows for matvec.wgsl in the upload's planes (dtype.h, wfmt_q6_K.wgsl).
// A unit is half a block, as mvfmt_q4_K.wgsl's: two words of nibbles and
// the high word with their top bits, with d times the block's two scales
// (its low nibbles' and its high ones'); n super-blocks' scales after 48n
// words of quants (q6_supers).
@group(0) @binding(1) var<storage, read> W: array<u32>;
const MV_UNIT: u32 = 16u;
struct WU { d: vec2<f32>, q: vec2<u32>, h: u32 }
struct XU { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32> }
fn q6_supers(len: u32) -> u32 { return 4u * (len / 212u) + (len % 212u) / 53u; }
fn k6_scales_at(len: u32, u: u32) -> u32 { return 48u * q6_supers(len) + 5u * (u >> 4u); }
fn k6_unit(q0: u32, q1: u32, h: u32, sw: u32, dw: u32, u: u32) -> WU {
  let o = 16u * ((u >> 1u) & 1u);
  let d = unpack2x16float(dw).x;
  // The two signed scales plus 128, under f16's exponent of 1024 (as
  // kquant.wgsl's k4_dm): exact, with no integer conversions.
  let b = sw >> o;
  let v = ((b & 255u) | (((b >> 8u) & 255u) << 16u)) ^ 0x00800080u;
  return WU(d * (unpack2x16float(v | 0x64006400u) - vec2<f32>(1152.0)), vec2<u32>(q0, q1), h);
}
fn mv_w(u: u32) -> WU {
  let b = 6u * (u >> 1u);
  let q = b + 2u * (u & 1u);
  let g = k6_scales_at(arrayLength(&W), u);
  return k6_unit(W[q], W[q + 1u], W[b + 4u + (u & 1u)], W[g + ((u >> 2u) & 3u)], W[g + 4u], u);
}
fn mv_x(u: u32) -> XU {
  let o = (u >> 1u) * 8u + 2u * (u & 1u);
  return XU(xin(o), xin(o + 1u), xin(o + 4u), xin(o + 5u));
}
fn mv_dot(w: WU, x: XU) -> f32 {
  let lo = vec2<f32>(w.d.x, 0.0);
  let hi = vec2<f32>(w.d.y, 0.0);
  return kq_dot(w.q.x, w.h, 0x00030003u, 32.0, x.a, x.c, lo, hi) +
         kq_dot(w.q.y, w.h >> 2u, 0x00030003u, 32.0, x.b, x.d, lo, hi);
}
