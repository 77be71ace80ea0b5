// onnxruntime-node (the runtime @huggingface/transformers uses in Node) on
// a transformers.js-style folder's onnx/model_q4.onnx: the oracle of
// tests/e2e/test_onnx_ort.sh. The model takes input_ids [1][n] and gives
// logits [1][n][vocab] (scripts/make_tiny_onnx.py's export: no KV cache,
// so each greedy step runs the whole sequence again).
//
//   node onnx_ort.mjs logits DIR "1 2 3" OUT.bin   logits at every position, f32 [n][vocab]
//   node onnx_ort.mjs greedy DIR "1 2 3" N         N argmax continuations (end-of-text ignored), then "gap G"
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../deps/package.json'));
const ort = require('onnxruntime-node');

const [cmd, dir, idsText, arg] = process.argv.slice(2);
if (!cmd || !dir || idsText === undefined || !arg) {
  console.error('usage: onnx_ort.mjs logits DIR "IDS" OUT.bin | greedy DIR "IDS" N');
  process.exit(2);
}
const file = ['model_q4.onnx', 'model_q4f16.onnx'].map((f) => path.join(dir, 'onnx', f)).find((f) => fs.existsSync(f));
if (!file) {
  console.error(`${dir}: no onnx/model_q4.onnx`);
  process.exit(1);
}
const ids = idsText.trim().split(/[\s,]+/).filter(Boolean).map(Number);
const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });

async function logits(seq) {
  const t = new ort.Tensor('int64', BigInt64Array.from(seq.map(BigInt)), [1, seq.length]);
  const out = await session.run({ input_ids: t });
  const l = out.logits;
  if (l.dims.length !== 3 || l.dims[1] !== seq.length) throw new Error(`logits of shape [${l.dims}]`);
  return { data: l.type === 'float16' ? Float32Array.from(l.data) : l.data, vocab: l.dims[2] };
}

if (cmd === 'logits') {
  const { data } = await logits(ids);
  fs.writeFileSync(arg, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
} else if (cmd === 'greedy') {
  // Second line: the smallest margin of a pick over the runner-up, as a
  // share of that step's logit spread.
  const seq = ids.slice();
  const gen = [];
  let gap = Infinity;
  for (let i = 0; i < Number(arg); i++) {
    const { data, vocab } = await logits(seq);
    const row = data.subarray((seq.length - 1) * vocab, seq.length * vocab);
    let best = 0, lo = row[0];
    for (let v = 1; v < vocab; v++) {
      if (row[v] > row[best]) best = v;
      if (row[v] < lo) lo = row[v];
    }
    let second = -Infinity;
    for (let v = 0; v < vocab; v++) if (v !== best && row[v] > second) second = row[v];
    gap = Math.min(gap, (row[best] - second) / (row[best] - lo));
    gen.push(best);
    seq.push(best);
  }
  console.log(gen.join(' '));
  console.log(`gap ${gap.toPrecision(3)}`);
} else {
  console.error(`unknown command ${cmd}`);
  process.exit(2);
}
