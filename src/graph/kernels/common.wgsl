// Per-forward values, written once before each submit.
struct Step {
  pos0: u32,       // position of the first token of this pass
  n_tokens: u32,   // tokens in this pass
  out_first: u32,  // first token whose logits are wanted
  n_out: u32,      // how many
}
const WG: u32 = 64u;
fn linear_wg(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }
