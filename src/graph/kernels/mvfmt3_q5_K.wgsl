// Matrix 3 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q5_K.wgsl reads W.
@group(0) @binding(6) var<storage, read> W3: array<u32>;
fn mv_w3(u: u32) -> WU {
  let b = 5u * (u >> 1u);
  let q = b + 2u * (u & 1u);
  let g = k5_scales_at(arrayLength(&W3), u);
  return k5_unit(W3[q], W3[q + 1u], W3[b + 4u], vec4<u32>(W3[g], W3[g + 1u], W3[g + 2u], W3[g + 3u]), u);
}
