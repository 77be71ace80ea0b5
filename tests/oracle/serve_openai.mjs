// The official npm `openai` client against `wgpt serve` (test_serve_openai.sh).
//
//   node tests/oracle/serve_openai.mjs BASE_URL MODEL_ID API_KEY SPEC_JSON
//
// SPEC_JSON: {"chat": [messages], "prompt": "text", "max_tokens": N}.
// Runs, each greedy (temperature 0): models.list; chat.completions.create
// without and with stream (include_usage); completions.create without and
// with stream; a request with a wrong type, which must throw the client's
// BadRequestError (400) carrying the server's error object. Checks that the
// streamed text, finish_reason and usage equal the non-streamed ones, then
// prints {chat: {text, finish_reason, usage}, completion: {...}} as JSON
// for the shell to hold against `wgpt run`. Exit 1 with a reason on stderr
// on any mismatch.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = process.env.WGPT_ROOT || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const OpenAI = require(path.join(root, 'deps/node_modules/openai'));

const [baseURL, model, apiKey, specJson] = process.argv.slice(2);
const spec = JSON.parse(specJson);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120000 });

function die(msg) { console.error('serve_openai: ' + msg); process.exit(1); }
function same(what, a, b) {
  if (JSON.stringify(a) !== JSON.stringify(b)) die(`${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
}

const models = await client.models.list();
const ids = [];
for await (const m of models) ids.push(m.id);
if (!ids.includes(model)) die(`models.list: ${JSON.stringify(ids)} lacks ${model}`);

const common = { model, temperature: 0, max_tokens: spec.max_tokens };
const out = {};

// chat
{
  const r = await client.chat.completions.create({ ...common, messages: spec.chat });
  if (r.object !== 'chat.completion' || r.choices.length !== 1) die('chat: ' + JSON.stringify(r));
  const c = r.choices[0];
  if (c.message.role !== 'assistant' || typeof c.message.content !== 'string') die('chat message: ' + JSON.stringify(c));
  same('chat usage total', r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  const s = await client.chat.completions.create({ ...common, messages: spec.chat, stream: true,
                                                   stream_options: { include_usage: true } });
  let text = '', finish = null, usage = null, role = null, chunks = 0;
  for await (const ch of s) {
    chunks++;
    if (ch.object !== 'chat.completion.chunk') die('chat chunk: ' + JSON.stringify(ch));
    if (ch.usage) usage = ch.usage;
    for (const ci of ch.choices) {
      if (ci.delta.role) role = ci.delta.role;
      if (ci.delta.content) text += ci.delta.content;
      if (ci.finish_reason) finish = ci.finish_reason;
    }
  }
  same('chat stream role', role, 'assistant');
  same('chat stream text', text, c.message.content);
  same('chat stream finish_reason', finish, c.finish_reason);
  same('chat stream usage', usage, r.usage);
  out.chat = { text, finish_reason: finish, usage, chunks };
}

// completions
{
  const r = await client.completions.create({ ...common, prompt: spec.prompt });
  if (r.object !== 'text_completion' || r.choices.length !== 1) die('completion: ' + JSON.stringify(r));
  const s = await client.completions.create({ ...common, prompt: spec.prompt, stream: true,
                                              stream_options: { include_usage: true } });
  let text = '', finish = null, usage = null, chunks = 0;
  for await (const ch of s) {
    chunks++;
    if (ch.usage) usage = ch.usage;
    for (const ci of ch.choices) {
      text += ci.text;
      if (ci.finish_reason) finish = ci.finish_reason;
    }
  }
  same('completion stream text', text, r.choices[0].text);
  same('completion stream finish_reason', finish, r.choices[0].finish_reason);
  same('completion stream usage', usage, r.usage);
  out.completion = { text, finish_reason: finish, usage, chunks };
}

// a wrong type: the client's BadRequestError with the server's error object
try {
  await client.chat.completions.create({ ...common, messages: spec.chat, temperature: 'hot' });
  die('temperature "hot" was accepted');
} catch (e) {
  if (!(e instanceof OpenAI.BadRequestError) || e.status !== 400) die('wrong type: ' + e);
  if (e.error?.type !== 'invalid_request_error' || e.error?.param !== 'temperature') die('error object: ' + JSON.stringify(e.error));
}
// a wrong key, when one is set
if (apiKey !== 'none') {
  const bad = new OpenAI({ baseURL, apiKey: apiKey + 'x', maxRetries: 0 });
  try {
    await bad.models.list();
    die('a wrong key was accepted');
  } catch (e) {
    if (!(e instanceof OpenAI.AuthenticationError) || e.status !== 401) die('wrong key: ' + e);
  }
}
console.log(JSON.stringify(out));
