// Matrix 2 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q6_K.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<vec2<u32>>;
fn mv_w2(u: u32) -> WU {
  let b = 3u * (u >> 1u);
  let g = k6_scales_at(2u * arrayLength(&W2), u);
  let s = g + ((u >> 2u) & 3u);
  let q = W2[b + (u & 1u)];
  return k6_unit(q.x, q.y, W2[b + 2u][u & 1u], W2[s >> 1u][s & 1u], W2[(g + 4u) >> 1u][g & 1u], u);
}
