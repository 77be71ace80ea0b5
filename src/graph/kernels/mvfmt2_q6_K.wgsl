// Matrix 2 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q6_K.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<vec2<u32>>;
fn mv_w2(u: u32) -> WU {
  let i = k6_words(2u * arrayLength(&W2), u);
  let q = W2[i.x];
  return k6_unit(q.x, q.y, W2[i.y][u & 1u], W2[i.z >> 1u][i.z & 1u], W2[i.w >> 1u][i.w & 1u], u);
}
