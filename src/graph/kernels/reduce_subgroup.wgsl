enable subgroups;
// Lanes of one group are exactly one subgroup (used only where the adapter's
// subgroup size is fixed), so groups never wait on workgroup barriers, which
// dominate on CPU adapters and cost on GPUs too. Calls are uniform within a
// subgroup, which the analysis cannot see through the group index.
diagnostic(off, subgroup_uniformity);

fn group_sum4(v: vec4<f32>, lane: u32) -> vec4<f32> { return subgroupAdd(v); }
fn group_sum(v: f32, lane: u32) -> f32 { return subgroupAdd(v); }
fn group_max(v: f32, lane: u32) -> f32 { return subgroupMax(v); }
fn group_bcast(v: f32, k: u32, lane: u32) -> f32 { return subgroupShuffle(v, k); }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(subgroup_size) sg: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  kernel(linear_wg(wid, nwg), lid.x / sg, WG / sg, lane, sg);
}
