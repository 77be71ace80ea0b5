// Each row's greedy pick on the GPU, so that a batch's greedy sequences read
// back a token each rather than their logits (a 1B's row is half a
// megabyte, and reading tens of them back each step cost more than the
// step): the first index of the row's largest value among the ids below
// n_allowed (sampler.c's argmax: the lowest index on ties), and whether any
// value of the row is NaN or infinite (the batch then refuses the row, as
// it does on the CPU). A workgroup a row.
struct Params { width: u32, n_allowed: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> L: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<vec2<u32>>; // (id, 1 if not finite)

const NONE: u32 = 0xffffffffu;
var<workgroup> bv: array<f32, WG>;
var<workgroup> bi: array<u32, WG>;
var<workgroup> bf: array<u32, WG>;

// (v, i) beats (w, j): larger, or as large and earlier; NONE never beats.
fn beats(v: f32, i: u32, w: f32, j: u32) -> bool {
  return i != NONE && (j == NONE || v > w || (v == w && i < j));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let o = linear_wg(wid, nwg) * p.width;
  var best = 0.0;
  var at = NONE;
  var bad = 0u;
  for (var i = li; i < p.width; i += WG) {
    let v = L[o + i];
    // exponent all ones: an infinity or a NaN (WGSL has no isnan)
    if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) { bad = 1u; }
    else if (i < p.n_allowed && beats(v, i, best, at)) { best = v; at = i; }
  }
  bv[li] = best;
  bi[li] = at;
  bf[li] = bad;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (li < s) {
      if (beats(bv[li + s], bi[li + s], bv[li], bi[li])) { bv[li] = bv[li + s]; bi[li] = bi[li + s]; }
      bf[li] = bf[li] | bf[li + s];
    }
    workgroupBarrier();
  }
  if (li == 0u) { O[linear_wg(wid, nwg)] = vec2<u32>(bi[0], bf[0]); }
}
