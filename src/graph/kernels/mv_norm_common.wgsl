// RMSNorm folded into a matrix-vector product (mv_norm.wgsl, mv_norm_bias.wgsl,
// matvec_glu.wgsl): dot(W[r], x / rms(x) * nw) = dot(W[r], x * nw) / rms(x).
// Every group recomputes the 1/rms of x (a few KB, from the cache) instead
// of a norm dispatch writing xn for the next one to read: a decode step is
// bound by dispatches as much as by bytes. The sum of squares is rmsnorm.wgsl's.
fn xin(i: u32) -> vec4<f32> { return X[xoff + i] * NW[i]; }
fn norm_scale(lane: u32, G: u32) -> f32 {
  let d4 = p.cols / 4u;
  var ss = vec4<f32>(0.0);
  for (var i = lane; i < d4; i += G) { let a = X[xoff + i]; ss += a * a; }
  return 1.0 / sqrt(group_sum(ss.x + ss.y + ss.z + ss.w, lane) / f32(p.cols) + p.eps);
}
