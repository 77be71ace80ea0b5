// Weight format F16, two halves per word (no shader-f16 needed). wload and
// wdeq as in wfmt_f32.wgsl.
const WBLOCK_WORDS: u32 = 16u;
alias WRAW = vec2<u32>;
fn wload(base: u32, j: u32) -> WRAW { return vec2<u32>(W[base + 2u * j], W[base + 2u * j + 1u]); }
fn wdeq(r: WRAW, base: u32, j: u32) -> vec4<f32> { return vec4<f32>(unpack2x16float(r.x), unpack2x16float(r.y)); }
fn wblock4(base: u32, j: u32) -> vec4<f32> { return wdeq(wload(base, j), base, j); }
