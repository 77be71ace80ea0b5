// llama.cpp's own tokenizer (CPU build, through node-llama-cpp, vocab only)
// as the oracle for `wgpt tokenize`.
//
//   node tests/tokenizer/llamacpp_tokenize.mjs TEXTS_JSON MODEL [MODEL...]
//
// TEXTS_JSON is a JSON list of strings. Prints one JSON object mapping each
// MODEL path to a list with, for each text, {"plain": ids, "special": ids}:
//   plain:   llama_tokenize(text, add_special=false, parse_special=false)
//   special: llama_tokenize(text, add_special=true,  parse_special=true)
// node-llama-cpp always tokenizes with add_special=false, so "special" adds
// BOS/EOS around the ids from llama.cpp's own add_bos/add_eos answers,
// which is all add_special does. "decoded": llama_detokenize of the plain
// ids (remove_special and unparse_special off). Several models share one process because
// starting llama.cpp costs seconds.

import fs from "node:fs";
import path from "node:path";
import {fileURLToPath} from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const {getLlama, LlamaLogLevel} = await import(path.join(root, "deps/node_modules/node-llama-cpp/dist/index.js"));

const [textsPath, ...models] = process.argv.slice(2);
if (!textsPath || models.length === 0) {
    console.error("usage: llamacpp_tokenize.mjs TEXTS_JSON MODEL [MODEL...]");
    process.exit(2);
}
const texts = JSON.parse(fs.readFileSync(textsPath, "utf8"));

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const result = {};
for (const modelPath of models) {
    // node-llama-cpp's memory estimate also tries a tensor load, which a
    // vocabulary-only file fails ("missing tensor"); the vocab load itself works.
    const model = await llama.loadModel({modelPath, vocabOnly: true});
    const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
    const eos = model.tokens.shouldAppendEosToken ? model.tokens.eos : null;
    result[modelPath] = texts.map((text) => {
        const special = Array.from(model.tokenize(text, true));
        if (bos != null) special.unshift(bos);
        if (eos != null) special.push(eos);
        const plain = Array.from(model.tokenize(text, false));
        return {plain, special, decoded: model.detokenize(plain, false)};
    });
    await model.dispose();
}
process.stdout.write(JSON.stringify(result) + "\n");
await llama.dispose();
