// Matrix 2 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q8_0.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<vec4<u32>>;
fn mv_w2(i: u32) -> WU { return WU(q8_scale(W2[2u * q8_blocks(arrayLength(&W2)) + (i >> 4u)][(i >> 2u) & 3u], i >> 1u), W2[i]); }
