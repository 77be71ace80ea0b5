// RMSNorm folded into a matrix-vector product (mv_norm.wgsl, mv_norm_bias.wgsl,
// matvec_glu.wgsl, matvec_qkv.wgsl): dot(W[r], x / rms(x) * nw) = dot(W[r], x * nw) / rms(x).
// Every group needs the 1/rms of x instead of a norm dispatch writing xn
// for the next one to read: a decode step is bound by dispatches as much as
// by bytes. The product's lanes between them read every element of x
// exactly once (each mvfmt_*.wgsl's units partition x), so the sum of
// squares is gathered from those very loads, and norm_scale, called after
// the product, only adds the lanes' shares: a loop of its own before the
// product was a chain of memory round trips as long as x (16 for a
// 2048-vector), the larger part of a small projection's time.
var<private> ss_acc: vec4<f32>;
fn xin(i: u32) -> vec4<f32> {
  let a = X[xoff + i];
  ss_acc += a * a;
  return a * NW[i];
}
fn norm_begin(lane: u32, G: u32) {} // nothing needed before the product (LayerNorm's statistics are)
fn norm_scale(lane: u32, G: u32) -> f32 {
  return 1.0 / sqrt(group_sum(ss_acc.x + ss_acc.y + ss_acc.z + ss_acc.w, lane) / f32(p.cols) + p.eps);
}
