// Matrix 3 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q4_K.wgsl reads W,
// in its own unit type: also V where Q and K are another K-quant
// (mv_qkv_v_own.wgsl).
@group(0) @binding(6) var<storage, read> W3: array<vec4<u32>>;
fn mv_w3(u: u32) -> WU3 {
  let g = k4_scales_at(arrayLength(&W3), u);
  return k4_unit(W3[u >> 1u], W3[g], u);
}
alias WU3 = K4U;
fn mv_dot3(w: WU3, x: XU) -> f32 { return k4_dot(w, x); }
