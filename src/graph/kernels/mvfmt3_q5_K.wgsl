// Matrix 3 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q5_K.wgsl reads W,
// in its own unit type: also V where Q and K are another K-quant
// (mv_qkv_v_own.wgsl).
@group(0) @binding(6) var<storage, read> W3: array<vec4<u32>>;
fn mv_w3(u: u32) -> WU3 {
  let b = 5u * (u >> 1u);
  let q = b + 2u * (u & 1u);
  let g = k5_scales_at(4u * arrayLength(&W3), u);
  return k5_unit(W3[q >> 2u][q & 3u], W3[(q + 1u) >> 2u][(q + 1u) & 3u], W3[(b + 4u) >> 2u][(b + 4u) & 3u], W3[g >> 2u], u);
}
alias WU3 = K5U;
fn mv_dot3(w: WU3, x: XU) -> f32 { return k5_dot(w, x); }
