// Matrix 2 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q6_K.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<u32>;
fn mv_w2(u: u32) -> WU {
  let b = 6u * (u >> 1u);
  let q = b + 2u * (u & 1u);
  let g = k6_scales_at(arrayLength(&W2), u);
  return k6_unit(W2[q], W2[q + 1u], W2[b + 4u + (u & 1u)], W2[g + ((u >> 2u) & 3u)], W2[g + 4u], u);
}
