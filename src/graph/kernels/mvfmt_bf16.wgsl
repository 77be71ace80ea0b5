// BF16 rows for matvec.wgsl: a unit is one 16-byte load, eight bf16; the low
// half of a word widens by a shift, the high half by a mask.
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
const MV_UNIT: u32 = 8u;
alias WU = vec4<u32>;
struct XU { a: vec4<f32>, b: vec4<f32> }
fn mv_w(i: u32) -> WU { return W[i]; }
fn mv_x(u: u32) -> XU { return XU(xin(2u * u), xin(2u * u + 1u)); }
fn mv_dot(w: WU, x: XU) -> f32 {
  let lo = bitcast<vec4<f32>>(w << vec4<u32>(16u));
  let hi = bitcast<vec4<f32>>(w & vec4<u32>(0xffff0000u));
  return dot(vec4<f32>(lo.x, hi.x, lo.y, hi.y), x.a) + dot(vec4<f32>(lo.z, hi.z, lo.w, hi.w), x.b);
}
