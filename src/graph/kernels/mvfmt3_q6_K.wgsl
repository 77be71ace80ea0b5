// Matrix 3 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q6_K.wgsl reads W,
// in its own unit type: also V where Q and K are another K-quant
// (mv_qkv_v_own.wgsl).
@group(0) @binding(6) var<storage, read> W3: array<vec2<u32>>;
fn mv_w3(u: u32) -> WU3 {
  let i = k6_words(2u * arrayLength(&W3), u);
  let q = W3[i.x];
  return k6_unit(q.x, q.y, W3[i.y][u & 1u], W3[i.z >> 1u][i.z & 1u], W3[i.w >> 1u][i.w & 1u], u);
}
alias WU3 = K6U;
fn mv_dot3(w: WU3, x: XU) -> f32 { return k6_dot(w, x); }
