// Matrix 2 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q4_K.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<vec4<u32>>;
fn mv_w2(u: u32) -> WU {
  let g = k4_scales_at(arrayLength(&W2), u);
  return k4_unit(W2[u >> 1u], W2[g], u);
}
