// The second matrix of matvec_glu.wgsl (the up projection), read as mvfmt_f16.wgsl reads W.
@group(0) @binding(5) var<storage, read> W2: array<vec4<u32>>;
fn mv_w2(i: u32) -> WU { return W2[i]; }
