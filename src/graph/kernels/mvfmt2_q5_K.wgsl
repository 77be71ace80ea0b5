// Matrix 2 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q5_K.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<vec4<u32>>;
fn mv_w2(u: u32) -> WU {
  let b = 5u * (u >> 1u);
  let q = b + 2u * (u & 1u);
  let g = k5_scales_at(4u * arrayLength(&W2), u);
  return k5_unit(W2[q >> 2u][q & 3u], W2[(q + 1u) >> 2u][(q + 1u) & 3u], W2[(b + 4u) >> 2u][(b + 4u) & 3u], W2[g >> 2u], u);
}
