// The oracle of tests/e2e/test_templates.sh: @huggingface/jinja (the
// renderer transformers.js uses, with transformers' trim_blocks and
// lstrip_blocks) renders each template over each conversation, with and
// without the generation prompt. Writes into OUT, per case, the messages
// (NAME.json) and the expected text (NAME.expect) or error (NAME.error),
// and a manifest: one line "NAME<TAB>TEMPLATE_FILE<TAB>GEN" per case.
// Usage: node templates_oracle.cjs OUT TEMPLATE_FILE...   (a
// tokenizer_config.json, whose bos_token/eos_token are used, or a Jinja file)
"use strict";
const fs = require("fs");
const path = require("path");
const { Template } = require(path.resolve("deps/node_modules/@huggingface/jinja/dist/index.cjs"));

const [out, ...templates] = process.argv.slice(2);
fs.mkdirSync(out, { recursive: true });

const S = { role: "system", content: 'You are a "careful" assistant.\nAnswer in one line; quote \'like this\' and use \\ sparingly.' };
const conversations = {
  single: [{ role: "user", content: "Hello!" }],
  system_user: [S, { role: "user", content: "What is 2+2?" }],
  multi: [
    S,
    { role: "user", content: "  Héllo, wörld! 😀 — “curly” quotes, tabs\tand\nnewlines  " },
    { role: "assistant", content: "Bonjour ! 你好。\n\nTwo paragraphs." },
    { role: "user", content: "Template text stays text: {{ bos_token }} {% if x %} {# c #} <|im_end|> [INST]" },
    { role: "assistant", content: "<think>\nreasoning here\n</think>\n\nThe answer." },
    { role: "user", content: "JSON-ish: {\"a\": [1, 2.5, null, true]} and a trailing newline\n" },
  ],
  // gemma3's and Llama 2's templates refuse this with raise_exception
  bad_roles: [{ role: "user", content: "one" }, { role: "user", content: "two" }],
  // No empty system message: @huggingface/jinja compares with JavaScript's
  // loose ==, for which "" == false (Llama 2's template asks), Python not.
  edges: [
    { role: "user", content: "\r\nCRLF\r\n" },
    { role: "assistant", content: "" },
    { role: "user", content: "\u0001\u001f\u007f \u2028 \ufeff end" },
  ],
};
const manifest = [];
for (const file of templates) {
  const base = path.basename(file).replace(/\.(json|jinja)$/, "");
  const name = base === "tokenizer_config" ? path.basename(path.dirname(path.dirname(file))) : base;
  const src = fs.readFileSync(file, "utf8");
  let tpl = src, bos = "", eos = "";
  if (file.endsWith(".json")) {
    const c = JSON.parse(src);
    tpl = c.chat_template;
    const text = (t) => (t && typeof t === "object" ? t.content : t) || "";
    bos = text(c.bos_token);
    eos = text(c.eos_token);
  }
  const t = new Template(tpl);
  for (const [cname, msgs] of Object.entries(conversations)) {
    for (const gen of [0, 1]) {
      const id = `${name}.${cname}.${gen}`;
      fs.writeFileSync(path.join(out, id + ".json"), JSON.stringify(msgs));
      try {
        const text = t.render({ messages: msgs, add_generation_prompt: gen === 1, bos_token: bos, eos_token: eos });
        fs.writeFileSync(path.join(out, id + ".expect"), text);
      } catch (e) {
        fs.writeFileSync(path.join(out, id + ".error"), e.message);
      }
      manifest.push(`${id}\t${file}\t${gen}`);
    }
  }
}
fs.writeFileSync(path.join(out, "manifest"), manifest.join("\n") + "\n");
console.log(`${manifest.length} cases from ${templates.length} templates`);
