// wgpt chat page: loads a GGUF model (or a model folder by its base URL,
// ending in '/') into the WebAssembly build of wgpt
// (wgpt.js + wgpt.wasm, the same C core as the native CLI) and streams
// generated text into a transcript. No framework, no network beyond this
// page's own origin and the model URL.
//
// URL settings: ?model=URL&prompt=TEXT&n=N&temp=T&seed=S (also topk, topp,
// minp, rp). With &autorun=1 the page loads the model, generates once,
// writes the text into #output and the token ids into #ids, then sets
// document.title to "done" or "error: <message>".

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const autorun = params.get('autorun') === '1';

const ui = {
  modelName: $('model-name'), modelDesc: $('model-desc'), adapter: $('adapter'),
  modelPanel: $('model-panel'), modelForm: $('model-form'), modelUrl: $('model-url'), modelFile: $('model-file'),
  load: $('load'), clearCache: $('clear-cache'),
  progressBox: $('progress-box'), progress: $('progress'), progressText: $('progress-text'),
  temp: $('temp'), topk: $('topk'), topp: $('topp'), maxtok: $('maxtok'), seed: $('seed'), keep: $('keep'),
  error: $('error'), transcript: $('transcript'), empty: $('empty'), rendered: $('rendered'),
  composer: $('composer'), prompt: $('prompt'), send: $('send'), stop: $('stop'), stats: $('stats'),
  output: $('output'), ids: $('ids'),
  lost: $('lost'), lostMsg: $('lost-msg'), restart: $('restart'),
};

let WGPT = null;        // the module's class, imported on first use
let engine = null;      // a WGPT instance
let model = null;       // { name, info } once loaded
let state = 'idle';     // idle | loading | generating | lost
let controller = null;  // AbortController of the generation in progress
const history = [];     // [{ user, bot }] for "keep the conversation"

// ---------- small helpers ----------
function fmtBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '?';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
const fmtRate = (t) => (Number.isFinite(t) && t > 0 ? t.toFixed(t < 10 ? 2 : 1) : '–');
const errText = (e) => (e && e.message) || String(e);
const isAbort = (e, signal) => (signal && signal.aborted) || (e && e.name === 'AbortError');
const nearBottom = () => ui.transcript.scrollHeight - ui.transcript.scrollTop - ui.transcript.clientHeight < 80;
const scrollDown = () => { ui.transcript.scrollTop = ui.transcript.scrollHeight; };
// A model's name for display: the file's name, or a folder's with its '/'.
function nameOf(href) {
  const parts = new URL(href).pathname.split('/');
  const last = parts.pop() || (parts.length ? `${parts.pop()}/` : '');
  return decodeURIComponent(last && last !== '/' ? last : href);
}

function num(v, fallback) {
  if (v === null || v === undefined || String(v).trim() === '') return fallback;
  const x = Number(v);
  return Number.isFinite(x) ? x : fallback;
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
}
function clearError() { ui.error.hidden = true; ui.error.textContent = ''; }

function setState(s) {
  state = s;
  const busy = s === 'loading' || s === 'generating' || s === 'lost';
  ui.load.disabled = busy;
  ui.clearCache.disabled = busy;
  for (const el of ui.modelForm.elements) if (el !== ui.load && el !== ui.clearCache) el.disabled = busy;
  ui.send.disabled = busy || !model;
  ui.send.hidden = s === 'generating';
  ui.stop.hidden = s !== 'generating';
  ui.load.textContent = s === 'loading' ? 'Loading…' : model ? 'Load another' : 'Load model';
  ui.prompt.placeholder = model ? 'Write the beginning of a text…' : 'Load a model first…';
}

function addMessage(kind, text) {
  ui.empty.hidden = true;
  const div = document.createElement('div');
  div.className = `msg ${kind}`;
  const span = document.createElement('span');
  span.className = 'text';
  span.textContent = text;
  div.append(span);
  ui.transcript.append(div);
  scrollDown();
  return { div, text: span };
}
function setMeta(msg, text) {
  let meta = msg.div.querySelector('.meta');
  if (!meta) {
    meta = document.createElement('span');
    meta.className = 'meta';
    msg.div.append(meta);
  }
  meta.textContent = text;
}

// ---------- settings: controls and the URL ----------
function bindRange(input, out, digits) {
  const show = () => { out.textContent = Number(input.value).toFixed(digits); };
  input.addEventListener('input', show);
  show();
}

function applyUrlSettings() {
  if (params.has('temp')) ui.temp.value = num(params.get('temp'), 0.8);
  if (params.has('topk')) ui.topk.value = num(params.get('topk'), 40);
  if (params.has('topp')) ui.topp.value = num(params.get('topp'), 0.95);
  if (params.has('n')) ui.maxtok.value = Math.max(1, Math.floor(num(params.get('n'), 128)));
  if (params.has('seed')) ui.seed.value = params.get('seed');
  if (params.has('prompt')) ui.prompt.value = params.get('prompt');
  const m = params.get('model');
  if (m && m !== 'default.gguf') {
    ui.modelUrl.value = new URL(m, location.href).href;
    selectSource('url');
  }
}

function samplingOptions() {
  const seedText = ui.seed.value.trim();
  return {
    maxTokens: Math.max(1, Math.floor(num(ui.maxtok.value, 128))),
    temperature: num(ui.temp.value, 0.8),
    topK: Math.max(0, Math.floor(num(ui.topk.value, 40))),
    topP: num(ui.topp.value, 0.95),
    minP: num(params.get('minp'), 0.05),
    repeatPenalty: num(params.get('rp'), 1.0),
    // Empty: a fresh seed per message in the chat; the engine's fixed
    // default for autorun links without &seed (so they match `wgpt run`).
    seed: seedText !== '' ? Math.floor(num(seedText, 0)) : autorun ? undefined : Math.floor(Math.random() * 2 ** 31),
  };
}

function selectSource(value) {
  for (const r of ui.modelForm.elements.source) r.checked = r.value === value;
  for (const div of ui.modelForm.querySelectorAll('.source-input')) div.hidden = div.dataset.for !== value;
}

// ---------- engine ----------
async function getEngine() {
  if (engine) return engine;
  if (!window.isSecureContext)
    throw Object.assign(new Error('WebGPU needs a secure page: open it over https:// or from localhost (wgpt serve-web).'),
                        { engineError: true });
  if (!('gpu' in navigator))
    throw Object.assign(new Error('This browser has no WebGPU (navigator.gpu is missing). Use a recent Chrome or Edge, ' +
                                  'or a browser with WebGPU turned on.'), { engineError: true });
  if (!WGPT) {
    try {
      ({ WGPT } = await import('./wgpt.js'));
    } catch (e) {
      throw Object.assign(new Error(`Could not load the engine (wgpt.js): ${errText(e)}`), { engineError: true });
    }
  }
  try {
    engine = await WGPT.create({ wasmUrl: 'wgpt.wasm' });
  } catch (e) {
    throw Object.assign(new Error(`WebGPU is not available: ${errText(e)}`), { engineError: true });
  }
  engine.onDeviceLost = onDeviceLost;
  return engine;
}

function onDeviceLost(message) {
  if (state === 'lost') return;
  const text = message || 'no reason given';
  setState('lost');
  if (controller) controller.abort();
  ui.lostMsg.textContent = text;
  ui.lost.hidden = false;
  ui.restart.focus();
  if (autorun) document.title = `error: device lost: ${text}`;
}

function showProgress({ loaded = 0, total = 0, bytesPerSec = 0, fromCache = false } = {}, t0) {
  ui.progressBox.hidden = false;
  if (total > 0) ui.progress.value = Math.min(1, loaded / total);
  else ui.progress.removeAttribute('value'); // indeterminate
  const amount = total > 0 ? `${fmtBytes(loaded)} / ${fmtBytes(total)}` : fmtBytes(loaded);
  const pct = total > 0 ? ` (${Math.floor((100 * loaded) / total)}%)` : '';
  const speed = bytesPerSec > 0 ? ` · ${fmtBytes(bytesPerSec)}/s` : '';
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  ui.progressText.textContent = `${fromCache ? 'From cache: ' : 'Downloading: '}${amount}${pct}${speed} · ${secs} s`;
}

async function loadModel(src, name) {
  clearError();
  setState('loading');
  let fromCache = false, last = null;
  const t0 = performance.now();
  try {
    if (engine && model) { // a fresh instance for another model
      engine.destroy();
      engine = null;
    }
    model = null;
    ui.modelName.textContent = `loading ${name}…`;
    ui.modelDesc.textContent = '';
    const w = await getEngine();
    showProgress({}, t0);
    await w.load(src, {
      onProgress: (p) => {
        last = p;
        fromCache = fromCache || !!p.fromCache;
        showProgress(p, t0);
      },
    });
    const info = w.info();
    model = { name, info };
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const size = last && last.total ? `${fmtBytes(last.total)} ` : '';
    ui.progress.value = 1;
    ui.progressText.textContent = `Loaded ${name}: ${size}in ${secs} s${fromCache ? ' (from cache)' : ''}` +
      (info && info.nCtx ? ` · context ${info.nCtx} tokens` : '');
    ui.modelName.textContent = name;
    ui.modelDesc.textContent = (info && info.desc) || '';
    ui.adapter.textContent = (info && info.adapter) || '';
    if (matchMedia('(max-width: 560px)').matches) ui.modelPanel.open = false;
    setState('idle');
  } catch (e) {
    model = null;
    ui.modelName.textContent = 'no model loaded';
    if (state !== 'lost') setState('idle');
    ui.progressBox.hidden = true;
    if (e && e.engineError) throw e;
    throw new Error(`Could not load ${name}: ${errText(e)}`);
  }
}

function modelFromForm() {
  const source = ui.modelForm.elements.source.value;
  if (source === 'url') {
    const u = ui.modelUrl.value.trim();
    if (!u) throw new Error('Give the URL of a .gguf file, or of a model folder ending in /.');
    const href = new URL(u, location.href).href;
    return { src: href, name: nameOf(href) };
  }
  if (source === 'file') {
    const f = ui.modelFile.files && ui.modelFile.files[0];
    if (!f) throw new Error('Choose a .gguf file.');
    return { src: f, name: f.name };
  }
  return { src: new URL('default.gguf', location.href).href, name: 'default.gguf' };
}

// Builds the prompt: the message alone, or (keep the conversation) the
// earlier turns before it, the oldest dropped to leave room in the context.
// A model with a chat template talks through it (its own special tokens and
// BOS, as `wgpt chat`); autorun links keep plain continuation (what `wgpt
// run` does) unless they say &chat=1. Returns { prompt, special }.
function chatTemplateOn() { return params.has('chat') ? params.get('chat') === '1' : !autorun; }

function buildPrompt(text, maxTokens) {
  if (chatTemplateOn()) {
    const messages = [];
    for (const t of ui.keep.checked ? history : []) messages.push({ role: 'user', content: t.user }, { role: 'assistant', content: t.bot });
    messages.push({ role: 'user', content: text });
    try {
      const prompt = engine.chatPrompt(messages);
      ui.rendered.textContent = prompt;
      return { prompt, special: true };
    } catch (e) {
      if (!/no chat template/.test(errText(e)) || params.get('chat') === '1') throw e;
    }
  }
  return { prompt: plainPrompt(text, maxTokens), special: false };
}

function plainPrompt(text, maxTokens) {
  if (!ui.keep.checked || history.length === 0) return text;
  const nCtx = (model && model.info && model.info.nCtx) || 2048;
  const budgetChars = Math.max(0, (nCtx - maxTokens) * 3); // about 3+ bytes a token
  const turns = history.map((t) => t.user + t.bot);
  let prompt = text;
  for (let i = turns.length - 1; i >= 0; i--) {
    const next = `${turns[i]}\n${prompt}`;
    if (next.length > budgetChars) break;
    prompt = next;
  }
  return prompt;
}

// One generation into the transcript. Returns { text, ids, tokPerSec, stopped }.
async function generate(text) {
  clearError();
  const opts = samplingOptions();
  const { prompt, special } = buildPrompt(text, opts.maxTokens);
  addMessage('user', text);
  const bot = addMessage('bot', '');
  bot.text.classList.add('streaming');
  setMeta(bot, 'generating…');
  controller = new AbortController();
  const signal = controller.signal;
  setState('generating');
  const ids = [], times = [];
  let out = '', tokPerSec = 0, stopped = false;
  const t0 = performance.now();
  ui.stats.textContent = 'Reading the prompt…';
  // The reply is drawn at most once a frame: reading the transcript's
  // scroll height after each token's write forced a layout a token, on the
  // thread that also drives the generation.
  let frame = 0;
  const draw = () => {
    frame = 0;
    const stick = nearBottom();
    bot.text.textContent = out.replace(/^\s+/, ''); // a continuation often starts with a space
    ui.stats.textContent = `${ids.length} tokens · ${fmtRate(tokPerSec)} tok/s`;
    if (stick) scrollDown();
  };
  const drawNow = () => { if (frame) cancelAnimationFrame(frame); draw(); };
  try {
    for await (const tok of engine.generate(prompt, { ...opts, signal, special })) {
      ids.push(tok.id);
      times.push(performance.now());
      out += tok.text;
      if (Number.isFinite(tok.tokPerSec)) tokPerSec = tok.tokPerSec;
      if (!frame) frame = requestAnimationFrame(draw);
    }
    drawNow();
  } catch (e) {
    drawNow();
    if (isAbort(e, signal)) stopped = true;
    else {
      bot.text.classList.remove('streaming');
      setMeta(bot, 'error');
      controller = null;
      if (state !== 'lost') setState('idle');
      throw new Error(`Generation failed: ${errText(e)}`);
    }
  }
  if (signal.aborted) stopped = true;
  controller = null;
  bot.text.classList.remove('streaming');
  if (!out.trim()) bot.text.textContent = stopped ? '' : '(nothing: the model ended at once)';
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  const summary = `${ids.length} tokens · ${fmtRate(tokPerSec)} tok/s · ${secs} s${stopped ? ' · stopped' : ''}`;
  setMeta(bot, summary);
  ui.stats.textContent = summary;
  history.push({ user: text, bot: out });
  ui.output.textContent = out;
  ui.ids.textContent = ids.join(' ');
  ui.output.dataset.tokPerSec = fmtRate(tokPerSec);
  // The rate over the second half of the tokens as well: the first ones run
  // slower in a browser, and the whole-run figure counts them.
  const h = Math.floor(times.length / 2);
  ui.output.dataset.lastHalfTokPerSec = fmtRate(h > 0 ? (times.length - 1 - h) / ((times[times.length - 1] - times[h]) / 1000) : NaN);
  // Each token's milliseconds after the one before (the first: after the
  // start, the prompt's time with it), for finding where a slow start goes.
  ui.output.dataset.tokenMs = times.map((t, k) => (t - (k ? times[k - 1] : t0)).toFixed(2)).join(' ');
  if (state !== 'lost') setState('idle');
  return { text: out, ids, tokPerSec, stopped };
}

// ---------- wiring ----------
function wire() {
  bindRange(ui.temp, $('temp-v'), 2);
  bindRange(ui.topk, $('topk-v'), 0);
  bindRange(ui.topp, $('topp-v'), 2);
  for (const r of ui.modelForm.elements.source) r.addEventListener('change', () => selectSource(r.value));
  ui.modelUrl.addEventListener('input', () => selectSource('url'));
  ui.modelFile.addEventListener('change', () => selectSource('file'));

  ui.modelForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (state !== 'idle') return;
    try {
      const { src, name } = modelFromForm();
      await loadModel(src, name);
      ui.prompt.focus();
    } catch (e) {
      showError(errText(e));
    }
  });

  ui.clearCache.addEventListener('click', async () => {
    clearError();
    try {
      const before = navigator.storage && navigator.storage.estimate ? (await navigator.storage.estimate()).usage : null;
      if (engine) await engine.clearCache();
      else if (window.caches) await caches.delete('wgpt-weights');
      const after = navigator.storage && navigator.storage.estimate ? (await navigator.storage.estimate()).usage : null;
      const freed = before !== null && after !== null && before > after ? ` (${fmtBytes(before - after)} freed)` : '';
      ui.progressBox.hidden = false;
      ui.progress.value = 0;
      ui.progressText.textContent = `Cached weights cleared${freed}. The next load downloads again.`;
    } catch (e) {
      showError(`Could not clear the cache: ${errText(e)}`);
    }
  });

  ui.composer.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = ui.prompt.value;
    if (state !== 'idle' || !model || !text.trim()) return;
    ui.prompt.value = '';
    try {
      await generate(text);
    } catch (e) {
      showError(errText(e));
    }
  });
  ui.prompt.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      ui.composer.requestSubmit();
    }
  });
  ui.stop.addEventListener('click', () => { if (controller) controller.abort(); });
  ui.restart.addEventListener('click', () => location.reload());

  window.addEventListener('unhandledrejection', (ev) => showError(errText(ev.reason)));
}

async function runAutorun() {
  const modelParam = params.get('model') || 'default.gguf';
  const src = new URL(modelParam, location.href).href;
  const name = nameOf(src);
  await loadModel(src, name);
  const text = params.has('prompt') ? params.get('prompt') : ui.prompt.value;
  ui.prompt.value = '';
  const r = await generate(text);
  if (state === 'lost') return;
  document.title = 'done';
  return r;
}

async function main() {
  wire();
  applyUrlSettings();
  setState('idle');
  if (!window.isSecureContext || !('gpu' in navigator)) {
    try { await getEngine(); } catch (e) { showError(errText(e)); if (autorun) document.title = `error: ${errText(e)}`; }
    ui.load.disabled = true;
    return;
  }
  if (autorun) {
    try {
      await runAutorun();
    } catch (e) {
      const m = errText(e);
      showError(m);
      if (state !== 'lost') document.title = `error: ${m}`;
    }
  }
}

main();
