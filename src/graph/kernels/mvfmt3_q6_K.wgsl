// Matrix 3 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q6_K.wgsl reads W,
// in its own unit type: also V where Q and K are another K-quant
// (mv_qkv_v_own.wgsl).
@group(0) @binding(6) var<storage, read> W3: array<vec2<u32>>;
fn mv_w3(u: u32) -> WU3 {
  let b = 3u * (u >> 1u);
  let g = k6_scales_at(2u * arrayLength(&W3), u);
  let s = g + ((u >> 2u) & 3u);
  let q = W3[b + (u & 1u)];
  return k6_unit(q.x, q.y, W3[b + 2u][u & 1u], W3[s >> 1u][s & 1u], W3[(g + 4u) >> 1u][g & 1u], u);
}
alias WU3 = K6U;
fn mv_dot3(w: WU3, x: XU) -> f32 { return k6_dot(w, x); }
