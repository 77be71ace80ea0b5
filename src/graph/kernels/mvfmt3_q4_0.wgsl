// Matrix 3 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q4_0.wgsl reads W.
@group(0) @binding(6) var<storage, read> W3: array<vec2<u32>>;
fn mv_w3(u: u32) -> WU { return WU(q4_scale(W3[2u * q4_blocks(arrayLength(&W3)) + (u >> 3u)][(u >> 2u) & 1u], u >> 1u), W3[u]); }
