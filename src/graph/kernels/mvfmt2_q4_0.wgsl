// Matrix 2 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q4_0.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<vec4<u32>>;
fn mv_w2(i: u32) -> WU { return WU(q4_scale(W2[q4_blocks(arrayLength(&W2)) + (i >> 3u)], i), W2[i]); }
