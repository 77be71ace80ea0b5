// Matrix 3 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q8_0.wgsl reads W.
@group(0) @binding(6) var<storage, read> W3: array<vec4<u32>>;
fn mv_w3(i: u32) -> WU { return WU(q8_scale(W3[2u * q8_blocks(arrayLength(&W3)) + (i >> 4u)][(i >> 2u) & 3u], i >> 1u), W3[i]); }
