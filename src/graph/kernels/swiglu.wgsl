// G = silu(G) * U over n_tokens rows of the feed-forward width.
struct Params { width: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> G: array<f32>;
@group(0) @binding(2) var<storage, read> U: array<f32>;
@group(0) @binding(3) var<uniform> step: Step;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear_wg(wid, nwg) * WG + lid.x;
  if (i >= step.n_tokens * p.width) { return; }
  let g = G[i];
  G[i] = g / (1.0 + exp(-g)) * U[i];
}
