// LayerNorm folded into a one-token product (matvec_qkv.wgsl's and
// matvec_glu.wgsl's lnorm variants): dot(W[r], (x - mean) * rstd * nw + nb),
// NW holding the norm's weight then its bias ([2][cols]; what follows is the
// kernel's own). As mv_norm_common.wgsl does for RMSNorm, every group takes
// the statistics of x itself (a few KB, from the cache) rather than waiting
// on a norm dispatch; they are layernorm.wgsl's, the mean, then the variance
// around it (not E[x^2] - E[x]^2, which cancels for rows far from zero). So
// unlike RMSNorm's they are needed before the product (norm_begin): a decode
// step being a chain of round trips to memory, a lane issues LN_LOADS loads
// of x before it uses any, and a row of up to LN_LOADS * G vec4s (1024
// floats with 32 lanes) is read once, the second pass taking it from registers.
const LN_LOADS: u32 = 8u;
var<private> ln_mean: f32;
var<private> ln_rstd: f32;

fn xin(i: u32) -> vec4<f32> {
  return (X[xoff + i] - vec4<f32>(ln_mean)) * ln_rstd * NW[i] + NW[p.cols / 4u + i];
}

// x's vec4s i0, i0 + G, ..., LN_LOADS of them (past the row: its last, which
// the caller masks), every load issued before any is used
fn ln_load(i0: u32, G: u32, d4: u32) -> array<vec4<f32>, LN_LOADS> {
  var v: array<vec4<f32>, LN_LOADS>;
  for (var k = 0u; k < LN_LOADS; k++) { v[k] = X[xoff + min(i0 + k * G, d4 - 1u)]; }
  return v;
}

fn ln_sum(v: array<vec4<f32>, LN_LOADS>, i0: u32, G: u32, d4: u32) -> vec4<f32> {
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < LN_LOADS; k++) { s += select(vec4<f32>(0.0), v[k], i0 + k * G < d4); }
  return s;
}

fn ln_sq_dev(v: array<vec4<f32>, LN_LOADS>, i0: u32, G: u32, d4: u32) -> vec4<f32> {
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < LN_LOADS; k++) {
    let d = select(vec4<f32>(0.0), v[k] - vec4<f32>(ln_mean), i0 + k * G < d4);
    s += d * d;
  }
  return s;
}

fn norm_begin(lane: u32, G: u32) {
  let d4 = p.cols / 4u;
  let stride = LN_LOADS * G;
  let head = ln_load(lane, G, d4);
  var s = ln_sum(head, lane, G, d4);
  for (var i0 = lane + stride; i0 < d4; i0 += stride) { s += ln_sum(ln_load(i0, G, d4), i0, G, d4); }
  ln_mean = group_sum(s.x + s.y + s.z + s.w, lane) / f32(p.cols);
  var ss = ln_sq_dev(head, lane, G, d4);
  for (var i0 = lane + stride; i0 < d4; i0 += stride) { ss += ln_sq_dev(ln_load(i0, G, d4), i0, G, d4); }
  ln_rstd = 1.0 / sqrt(group_sum(ss.x + ss.y + ss.z + ss.w, lane) / f32(p.cols) + p.eps);
}
fn norm_scale(lane: u32, G: u32) -> f32 { return 1.0; } // xin applied the norm
