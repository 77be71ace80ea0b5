// llama.cpp (CPU, through node-llama-cpp) as an independent oracle for wgpt.
//
//   node tests/oracle/llamacpp.mjs greedy   MODEL PROMPT N [--json]
//   node tests/oracle/llamacpp.mjs logits   MODEL IDS_JSON OUT.bin
//   node tests/oracle/llamacpp.mjs tokenize MODEL TEXT [--special]
//
// greedy: feeds BOS (when tokenizer.ggml.add_bos_token says so) followed by
//   llama_tokenize(PROMPT, add_special=false, parse_special=false), exactly
//   what `wgpt run -p PROMPT` feeds, then takes the argmax N times (llama.cpp's
//   greedy sampler: ties go to the lowest id; no repetition penalty, no bias).
//   Stops early after an end-of-generation token, which is not printed.
//   Prints the generated ids space-separated, then the decoded text on a
//   second line. --json prints {prompt_ids, ids, text, gaps} instead, where
//   gaps[i] is llama.cpp's top-1 minus top-2 logit before generated token i.
// logits: evaluates the JSON array of token ids (no BOS is added: pass it)
//   in one batch from position 0 and writes the raw logits of every
//   position, little-endian f32 [positions][vocab] (same layout as
//   `wgpt logits -o`). These are the values llama.cpp's sampler sees before
//   any sampling step.
// tokenize: prints the ids llama.cpp feeds for TEXT (BOS included per the
//   metadata); --special also parses control-token text such as "<s>".
//
// Numerics of this oracle, which is what wgpt is compared against: the KV
// cache is kept in f32 and flash attention is off, so for f32 weights the
// only differences from an exact f32 forward pass are summation order.
// With f16/q8_0/q4_0 weights llama.cpp's CPU matmuls convert the activations
// to the weight's "vec_dot_type" first (f16 for f16 weights, q8_0 blocks for
// q8_0 and q4_0 weights); that rounding is llama.cpp's, not the model's.

import fs from "node:fs";
import path from "node:path";
import {fileURLToPath} from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const {getLlama, LlamaLogLevel} = await import(path.join(root, "deps/node_modules/node-llama-cpp/dist/index.js"));

function usage() {
    console.error("usage: llamacpp.mjs greedy MODEL PROMPT N [--json] | logits MODEL IDS_JSON OUT.bin | tokenize MODEL TEXT [--special]");
    process.exit(2);
}

const [cmd, modelPath, arg1, arg2, ...rest] = process.argv.slice(2);
if (!cmd || !modelPath || arg1 === undefined) usage();

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
// ggml's worker threads spin while they wait; more of them than free cores
// makes a tiny model crawl (seconds per token). Tiny files get one thread.
// The thread count does not change results: each dot product is one thread's.
const threads = Number(process.env.WGPT_ORACLE_THREADS) ||
    (fs.statSync(modelPath).size < (64 << 20) ? 1 : llama.cpuMathCores);
// llama.cpp's n_vocab: {arch}.vocab_size where the file has it (the Llama
// generator writes it), else the length of the token list (converted Qwen
// files carry no qwen2/qwen3.vocab_size).
const meta = model.fileInfo.metadata;
const vocabSize = model.fileInsights.modelVocabSize ?? meta?.[meta?.general?.architecture]?.vocab_size ??
    meta?.tokenizer?.ggml?.tokens?.length;

// Tokens exactly as fed to the model for a text prompt.
function promptTokens(text, special = false) {
    const ids = Array.from(model.tokenize(text, special));
    if (model.tokens.shouldPrependBosToken && model.tokens.bos != null)
        ids.unshift(model.tokens.bos);
    return ids;
}

async function newSequence(nTokens) {
    // One batch holds the whole input, so every position is computed in the
    // same graph as a single prefill (as wgpt's prefill does).
    const contextSize = Math.max(32, Math.min(model.trainContextSize, nTokens + 8));
    const context = await model.createContext({
        contextSize, batchSize: contextSize, sequences: 1, flashAttention: false, threads,
        experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
    });
    return {context, sequence: context.getSequence()};
}

function gapOf(logitsMap) {
    const it = logitsMap.values();
    const a = it.next().value, b = it.next().value;
    return b === undefined ? Infinity : a - b;
}

async function greedy(prompt, n, json) {
    const input = promptTokens(prompt);
    if (input.length === 0) throw new Error("empty prompt and no BOS token");
    const {context, sequence} = await newSequence(input.length + n);
    const step = {generateNext: {token: true, logits: {filter: {includeTop: 2}}, options: {temperature: 0}}};
    const ids = [], gaps = [];
    let feed = [...input.slice(0, -1), [input[input.length - 1], step]];
    while (ids.length < n) {
        const out = await sequence.controlledEvaluate(feed);
        const next = out[feed.length - 1]?.next;
        if (next?.token == null) throw new Error("llama.cpp produced no token");
        if (model.isEogToken(next.token)) break;
        ids.push(next.token);
        gaps.push(gapOf(next.logits));
        feed = [[next.token, step]];
    }
    const text = model.detokenize(ids);
    if (json) console.log(JSON.stringify({prompt_ids: input, ids, text, gaps}));
    else console.log(ids.join(" ") + "\n" + text);
    await context.dispose();
}

async function logits(ids, outPath) {
    if (!Array.isArray(ids) || ids.length === 0 || ids.some((t) => !Number.isInteger(t) || t < 0 || t >= vocabSize))
        throw new Error(`IDS_JSON must be a non-empty array of token ids below ${vocabSize}`);
    const {context, sequence} = await newSequence(ids.length);
    const opts = {generateNext: {logits: true}};
    const out = await sequence.controlledEvaluate(ids.map((t) => [t, opts]));
    const buf = new Float32Array(ids.length * vocabSize);
    for (let p = 0; p < ids.length; p++) {
        const m = out[p]?.next?.logits;
        if (m == null || m.size !== vocabSize) throw new Error(`no full logits for position ${p}`);
        for (const [tok, v] of m) buf[p * vocabSize + tok] = v;
    }
    fs.writeFileSync(outPath, Buffer.from(buf.buffer));
    await context.dispose();
}

try {
    if (cmd === "greedy") {
        const n = Number.parseInt(arg2, 10);
        if (!(n > 0)) usage();
        await greedy(arg1, n, rest.includes("--json"));
    } else if (cmd === "logits") {
        if (!arg2) usage();
        await logits(JSON.parse(arg1), arg2);
    } else if (cmd === "tokenize") {
        console.log(promptTokens(arg1, arg2 === "--special").join(" "));
    } else usage();
} finally {
    await model.dispose();
    await llama.dispose();
}
