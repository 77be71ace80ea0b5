// Per-forward values, written once before each submit (graph.h's
// step_params). A pass is one sequence's tokens, pos0 .. pos0 + n_tokens - 1
// in the cache rows from row0 + pos0 (row0: where the sequence's cache
// starts among a batch's sequences, 0 for a lone context); or, with multi,
// one token of each of several sequences (a batched decode step), token t
// at its own position and cache row, tok's pair t.
struct Step {
  pos0: u32,       // position of the first token of this pass
  n_tokens: u32,   // tokens in this pass
  out_first: u32,  // first token whose logits are wanted
  n_out: u32,      // how many
  row0: u32,       // the cache row of the sequence's position 0
  multi: u32,      // 1: tokens of several sequences, positions and rows in tok
  pad0: u32,
  pad1: u32,
  tok: array<vec4<u32>, 128>, // multi: (position, cache row) of tokens 2i and 2i + 1
}
const WG: u32 = 64u;
fn linear_wg(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }
