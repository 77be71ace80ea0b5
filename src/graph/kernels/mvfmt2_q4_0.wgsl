// Matrix 2 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q4_0.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<vec2<u32>>;
fn mv_w2(u: u32) -> WU { return WU(q4_scale(W2[2u * q4_blocks(arrayLength(&W2)) + (u >> 3u)][(u >> 2u) & 1u], u >> 1u), W2[u]); }
