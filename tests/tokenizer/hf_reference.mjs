// transformers.js's tokenizer code (@lenml/tokenizers) and GPT-2's own
// encoder (gpt-3-encoder) as the oracle for the tokenizer.json tokenizers.
//
//   node tests/tokenizer/hf_reference.mjs TEXTS_JSON NAME=DIR [NAME=DIR ...] [gpt2]
//
// DIR holds tokenizer.json and tokenizer_config.json. Prints one JSON object
// mapping each NAME (and "gpt2") to a list with, for each text,
// {"ids": encode(text) (add_special_tokens default, true), "decoded":
// decode(ids less what the post-processor added, clean_up_tokenization_spaces
// false)}.

import fs from "node:fs";
import path from "node:path";
import {createRequire} from "node:module";
import {fileURLToPath} from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const {TokenizerLoader} = await import(path.join(root, "deps/node_modules/@lenml/tokenizers/dist/main.mjs"));

const [textsPath, ...specs] = process.argv.slice(2);
if (!textsPath || specs.length === 0) {
    console.error("usage: hf_reference.mjs TEXTS_JSON NAME=DIR [...] [gpt2]");
    process.exit(2);
}
const texts = JSON.parse(fs.readFileSync(textsPath, "utf8"));
const result = {};
for (const spec of specs) {
    if (spec === "gpt2") {
        const require = createRequire(import.meta.url);
        const enc = require(path.join(root, "deps/node_modules/gpt-3-encoder/index.js"));
        result.gpt2 = texts.map((t) => {
            const ids = enc.encode(t);
            return {ids, decoded: enc.decode(ids)};
        });
        continue;
    }
    const eq = spec.indexOf("=");
    const name = spec.slice(0, eq), dir = spec.slice(eq + 1);
    const tok = TokenizerLoader.fromPreTrained({
        tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
        tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")),
    });
    // what add_special_tokens adds: the difference on an empty text
    const bare = tok.encode("", {add_special_tokens: false}).length;
    const withSpecial = tok.encode("x");
    const plainX = tok.encode("x", {add_special_tokens: false});
    let pre = 0;
    while (pre < withSpecial.length && withSpecial[pre] !== plainX[0]) pre++;
    const suf = withSpecial.length - pre - plainX.length;
    if (bare !== 0) throw new Error(name + ": the empty text has tokens");
    result[name] = texts.map((t) => {
        const ids = tok.encode(t);
        const inner = ids.slice(pre, ids.length - suf);
        return {ids, decoded: inner.length ? tok.decode(inner, {clean_up_tokenization_spaces: false}) : ""};
    });
}
process.stdout.write(JSON.stringify(result) + "\n");
