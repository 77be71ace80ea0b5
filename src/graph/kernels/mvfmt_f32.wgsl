// F32 rows for matvec.wgsl: a unit is one 16-byte load, four floats.
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
const MV_UNIT: u32 = 4u;
alias WU = vec4<u32>;
alias XU = vec4<f32>;
fn mv_w(i: u32) -> WU { return W[i]; }
fn mv_x(u: u32) -> XU { return xin(u); }
fn mv_dot(w: WU, x: XU) -> f32 { return dot(bitcast<vec4<f32>>(w), x); }
