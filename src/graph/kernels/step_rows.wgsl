// Token t's position in its sequence, and its row in the KV cache
// (common.wgsl's Step). Composed into every kernel that binds the step
// uniform (kernels.c), as a function may not name a binding its module
// lacks.
fn step_pos(t: u32) -> u32 {
  if (step.multi != 0u) { let v = step.tok[t / 2u]; return select(v.x, v.z, (t & 1u) == 1u); }
  return step.pos0 + t;
}
fn step_row(t: u32) -> u32 {
  if (step.multi != 0u) { let v = step.tok[t / 2u]; return select(v.y, v.w, (t & 1u) == 1u); }
  return step.row0 + step.pos0 + t;
}
