// Matrix 3 of matvec_glu.wgsl / matvec_qkv.wgsl, read as mvfmt_q4_0.wgsl reads W.
@group(0) @binding(6) var<storage, read> W3: array<vec4<u32>>;
fn mv_w3(i: u32) -> WU { return WU(q4_scale(W3[q4_blocks(arrayLength(&W3)) + (i >> 3u)], i), W3[i]); }
