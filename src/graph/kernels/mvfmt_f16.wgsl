// F16 rows for matvec.wgsl: a unit is one 16-byte load, eight halves, widened
// to f32 in registers (no shader-f16 needed, none used).
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
const MV_UNIT: u32 = 8u;
alias WU = vec4<u32>;
struct XU { a: vec4<f32>, b: vec4<f32> }
fn mv_w(i: u32) -> WU { return W[i]; }
fn mv_x(u: u32) -> XU { return XU(xin(2u * u), xin(2u * u + 1u)); }
fn mv_dot(w: WU, x: XU) -> f32 {
  let a = unpack2x16float(w.x);
  let b = unpack2x16float(w.y);
  let c = unpack2x16float(w.z);
  let d = unpack2x16float(w.w);
  return dot(vec4<f32>(a, b), x.a) + dot(vec4<f32>(c, d), x.b);
}
