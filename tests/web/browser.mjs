// Drives Debian's Chromium (headless, WebGPU) through the chat page served by
// `wgpt serve-web`, for tests/e2e/test_browser.sh:
//  1. autorun: /?model=M&prompt=P&n=N&temp=0&autorun=1, waits for the title
//     "done", compares #ids with the native ids given (--expect-ids);
//  2. reloads in the same browser profile and checks, from the server's
//     request log (--server-log), that no model bytes were downloaded again;
//     then (--model-file) loads the same model as a local file and sends the
//     prompt from the message box: the same ids; "Clear cached weights" empties
//     the cache;
//  3. (--screenshots DIR) uses the page as a person would (Load, type, Send)
//     and takes screenshots mid-generation at desktop and phone size, then
//     presses Stop.
//  4. (--cases FILE) a JSON list of { name, model, prompt, n, expectIds } or
//     { name, model, expectError } (a regular expression), or with
//     expectRendered (the page in chat mode, &chat=1: its rendering of the
//     prompt as a user message must be that text): each model (a
//     folder by its base URL, for tests/e2e/test_browser_folders.sh) loaded
//     by autorun in a fresh profile; the ids must equal expectIds, or the
//     page must end with one error matching expectError. A case with
//     reload: true is loaded again in the same profile, and the server's
//     log (--server-log) must show no bytes of the folder sent again.
// Prints one JSON line per step; exits 1 on any failure.
//
// usage: node tests/web/browser.mjs --base http://127.0.0.1:PORT --model /m.gguf
//          --prompt TEXT --n 16 [--temp 0] [--expect-ids "1 2 3"] [--server-log FILE]
//          [--model-file PATH] [--screenshots DIR] [--chromium /usr/bin/chromium] [--timeout SECONDS]
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
  const key = a.slice(2);
  const next = process.argv[i + 1];
  if (next === undefined || next.startsWith('--')) args[key] = true;
  else { args[key] = next; i++; }
}
const base = String(args.base || '').replace(/\/$/, '');
if (!base) { console.error('--base is required'); process.exit(2); }
const timeoutMs = Number(args.timeout || 120) * 1000;
const chromiumPath = args.chromium || process.env.CHROMIUM || '/usr/bin/chromium';
const pwDir = process.env.WGPT_PLAYWRIGHT || path.resolve('build/webtest/node_modules/playwright-core');
const { chromium } = createRequire(import.meta.url)(pwDir);

const chromeArgs = [
  '--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic',
];
let failures = 0;
const report = (obj) => console.log(JSON.stringify(obj));
const fail = (step, message, extra = {}) => { failures++; report({ step, ok: false, message, ...extra }); };

function watch(page, tag) {
  const lines = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') lines.push(`${tag} console.${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => lines.push(`${tag} pageerror: ${e.message}`));
  return lines;
}

async function waitTitle(page) {
  await page.waitForFunction(() => document.title === 'done' || document.title.startsWith('error:'), null, { timeout: timeoutMs });
  return page.title();
}

async function pageResult(page) {
  return page.evaluate(() => ({
    title: document.title,
    ids: document.getElementById('ids').textContent.trim(),
    output: document.getElementById('output').textContent,
    rendered: document.getElementById('rendered').textContent,
    tokPerSec: Number(document.getElementById('output').dataset.tokPerSec || 'NaN'),
    adapter: document.getElementById('adapter').textContent,
    progress: document.getElementById('progress-text').textContent,
  }));
}

// Model bytes in the server's log after `marker`: lines are
// "serve-web: ADDR METHOD PATH range=R status=S bytes=B".
function modelBytesAfter(logFile, marker, modelPath) {
  const lines = fs.readFileSync(logFile, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.includes(marker));
  if (at < 0) throw new Error(`marker ${marker} not in the server log`);
  let bytes = 0; const hits = [];
  for (const l of lines.slice(at + 1)) {
    const m = l.match(/^serve-web: \S+ (\S+) (\S+) range=(\S+) status=(\d+) bytes=(\d+)/);
    if (m && m[2] === modelPath) { bytes += Number(m[5]); hits.push(l); }
  }
  return { bytes, hits };
}

async function checkAutorun() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgpt-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath, headless: true, args: chromeArgs, viewport: { width: 1000, height: 760 },
  });
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    const log = watch(page, 'autorun');
    const q = new URLSearchParams({ model: args.model, prompt: args.prompt ?? '', n: String(args.n ?? 16), temp: String(args.temp ?? 0), autorun: '1' });
    if (args.seed !== undefined) q.set('seed', String(args.seed));
    const url = `${base}/?${q}`;
    let t0 = Date.now();
    await page.goto(url);
    let title = await waitTitle(page);
    let r = await pageResult(page);
    report({ step: 'first visit', ok: title === 'done', seconds: (Date.now() - t0) / 1000, ...r });
    if (title !== 'done') { fail('first visit', title, { log }); return; }
    if (args['expect-ids'] !== undefined) {
      const want = String(args['expect-ids']).trim();
      if (r.ids !== want) fail('ids', 'browser ids differ from native', { browser: r.ids, native: want });
      else report({ step: 'ids', ok: true, equal: true, count: want.split(/\s+/).length });
    }
    const first = r;
    if (args['server-log']) {
      const marker = `/__reload_marker_${Date.now()}`;
      await fetch(base + marker).catch(() => {}); // a 404 in the log: what follows is the second visit
      t0 = Date.now();
      await page.reload();
      title = await waitTitle(page);
      r = await pageResult(page);
      report({ step: 'second visit', ok: title === 'done', seconds: (Date.now() - t0) / 1000, ...r });
      if (title !== 'done') { fail('second visit', title, { log }); return; }
      if (r.ids !== first.ids) fail('second visit', 'ids differ from the first visit', { first: first.ids, second: r.ids });
      await new Promise((res) => setTimeout(res, 300)); // let the server's last log lines land
      const modelPath = new URL(args.model, base + '/').pathname;
      const { bytes, hits } = modelBytesAfter(args['server-log'], marker, modelPath);
      if (bytes > 0) fail('cache', `${bytes} model bytes downloaded again on the second visit`, { hits: hits.slice(0, 10) });
      else report({ step: 'cache', ok: true, modelBytesOnSecondVisit: 0, modelRequests: hits.length });
    }
    if (args['model-file']) await fromLocalFile(page, first.ids);
    // "Clear cached weights" empties the page's cache.
    await page.click('#clear-cache');
    await page.waitForFunction(() => /cleared/i.test(document.getElementById('progress-text').textContent) ||
      !document.getElementById('error').hidden, null, { timeout: timeoutMs });
    const left = await page.evaluate(async () => {
      if (!(await caches.has('wgpt-weights'))) return 0;
      return (await (await caches.open('wgpt-weights')).keys()).length;
    });
    if (left) fail('clear cache', `${left} entries left in the wgpt-weights cache`);
    else report({ step: 'clear cache', ok: true });
    if (log.length) report({ step: 'console', lines: log.slice(0, 20) });
  } finally {
    await ctx.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

// The same model picked as a local file, the same prompt sent from the
// message box with the settings from the URL (temp=0): the same ids.
async function fromLocalFile(page, wantIds) {
  const q = new URLSearchParams({ prompt: args.prompt ?? '', n: String(args.n ?? 16), temp: '0' });
  await page.goto(`${base}/?${q}`);
  await page.check('input[name=source][value=file]');
  await page.setInputFiles('#model-file', String(args['model-file']));
  await page.click('#load');
  await page.waitForFunction(() => !document.getElementById('send').disabled || !document.getElementById('error').hidden,
    null, { timeout: timeoutMs });
  await page.click('#send');
  await page.waitForFunction(() => {
    const b = document.getElementById('send');
    return (document.querySelector('.msg.bot .meta') && !b.hidden && !b.disabled) || !document.getElementById('error').hidden;
  }, null, { timeout: timeoutMs });
  const r = await pageResult(page);
  const err = await page.$eval('#error', (e) => (e.hidden ? '' : e.textContent));
  if (err) fail('local file', err);
  else if (r.ids !== wantIds) fail('local file', 'ids differ from the URL load', { file: r.ids, url: wantIds });
  else report({ step: 'local file', ok: true, progress: r.progress });
}

// As a person would: Load, type, Send; screenshot while tokens stream; Stop.
async function chatAsPerson(context, label, shot, { warmup }) {
  const page = await context.newPage();
  const log = watch(page, label);
  await page.goto(`${base}/`);
  await page.click('#load');
  await page.waitForFunction(() => !document.getElementById('send').disabled || !document.getElementById('error').hidden,
    null, { timeout: timeoutMs });
  const err = await page.$eval('#error', (e) => (e.hidden ? '' : e.textContent));
  if (err) { fail(label, `load: ${err}`, { log }); await page.close(); return; }
  const send = async (text, maxTokens) => {
    await page.click('#settings-panel > summary'); // open Settings, set Max tokens, close it again
    await page.fill('#maxtok', String(maxTokens));
    await page.click('#settings-panel > summary');
    await page.fill('#prompt', text);
    await page.press('#prompt', 'Enter');
  };
  const bots = () => page.$$eval('.msg.bot', (b) => b.length);
  if (warmup) { // one short finished exchange first, so the screenshot shows a conversation
    await send(warmup, 20);
    await page.waitForFunction(() => {
      const b = document.getElementById('send');
      return document.querySelectorAll('.msg.bot').length >= 1 && !b.hidden && !b.disabled;
    }, null, { timeout: timeoutMs });
  }
  const before = await bots();
  await send('And it came to pass', 180);
  // Mid-generation: some text is there and the cursor still blinks.
  await page.waitForFunction((n) => {
    const all = document.querySelectorAll('.msg.bot .text');
    const t = all[n];
    return t && (t.textContent.length > 90 || !t.classList.contains('streaming'));
  }, before, { timeout: timeoutMs });
  const streaming = await page.$$eval('.msg.bot .text', (all, n) => all[n].classList.contains('streaming'), before);
  await page.screenshot({ path: shot });
  await page.click('#stop').catch(() => {});
  await page.waitForFunction((n) => {
    const m = document.querySelectorAll('.msg.bot')[n];
    return m && !m.querySelector('.text.streaming') && m.querySelector('.meta');
  }, before, { timeout: timeoutMs });
  const meta = await page.$$eval('.msg.bot .meta', (all) => all[all.length - 1].textContent);
  const stopOk = !streaming || meta.includes('stopped');
  report({ step: label, ok: streaming && stopOk, screenshot: shot, midGeneration: streaming, meta, log: log.slice(0, 10) });
  if (!streaming) fail(label, 'generation ended before the screenshot: not mid-generation');
  else if (!stopOk) fail(label, `Stop did not stop the generation: ${meta}`);
  await page.close();
}

// Bytes of files under prefix sent after the marker (200 and 206 answers).
function prefixBytesAfter(logFile, marker, prefix) {
  const lines = fs.readFileSync(logFile, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.includes(marker));
  if (at < 0) throw new Error(`marker ${marker} not in the server log`);
  let bytes = 0; const hits = [];
  for (const l of lines.slice(at + 1)) {
    const m = l.match(/^serve-web: \S+ (\S+) (\S+) range=(\S+) status=(\d+) bytes=(\d+)/);
    if (m && m[2].startsWith(prefix) && (m[4] === '200' || m[4] === '206')) { bytes += Number(m[5]); hits.push(l); }
  }
  return { bytes, hits };
}

async function runCase(c) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgpt-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath, headless: true, args: chromeArgs, viewport: { width: 1000, height: 760 },
  });
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    const log = watch(page, c.name);
    const q = new URLSearchParams({ model: c.model, prompt: c.prompt ?? 'Hello', n: String(c.n ?? 16), temp: '0', autorun: '1' });
    if (c.expectRendered !== undefined) q.set('chat', '1');
    const t0 = Date.now();
    await page.goto(`${base}/?${q}`);
    const title = await waitTitle(page);
    const r = await pageResult(page);
    const error = await page.$eval('#error', (e) => (e.hidden ? '' : e.textContent));
    const step = { step: c.name, seconds: (Date.now() - t0) / 1000, title, progress: r.progress };
    if (c.expectError) {
      const okErr = title.startsWith('error:') && new RegExp(c.expectError).test(error) && !error.includes('\n');
      if (okErr) report({ ...step, ok: true, error });
      else fail(c.name, `expected one error matching /${c.expectError}/`, { ...step, error, log });
      return;
    }
    if (title !== 'done') { fail(c.name, title, { ...step, log }); return; }
    if (c.expectRendered !== undefined && r.rendered !== c.expectRendered) {
      fail(c.name, 'the chat template rendered otherwise than native `wgpt template`', { browser: r.rendered, native: c.expectRendered, ...step });
      return;
    }
    if (c.expectIds !== undefined && r.ids !== c.expectIds) { fail(c.name, 'browser ids differ from native', { browser: r.ids, native: c.expectIds, ...step }); return; }
    report({ ...step, ok: true, ids: r.ids, desc: await page.$eval('#model-desc', (e) => e.textContent) });
    if (c.reload && args['server-log']) {
      const marker = `/__reload_marker_${Date.now()}`;
      await fetch(base + marker).catch(() => {});
      await page.reload();
      const t2 = await waitTitle(page);
      const r2 = await pageResult(page);
      await new Promise((res) => setTimeout(res, 300));
      const prefix = new URL(c.model, base + '/').pathname;
      const { bytes, hits } = prefixBytesAfter(args['server-log'], marker, prefix);
      if (t2 !== 'done' || r2.ids !== c.expectIds) fail(`${c.name} reload`, t2, { ids: r2.ids });
      else if (bytes > 0) fail(`${c.name} reload`, `${bytes} bytes of the folder downloaded again`, { hits: hits.slice(0, 10) });
      else report({ step: `${c.name} reload`, ok: true, folderBytesOnSecondVisit: 0, progress: r2.progress });
    }
    if (log.length) report({ step: `${c.name} console`, lines: log.slice(0, 10) });
  } finally {
    await ctx.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

async function screenshots(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromeArgs });
  try {
    const desk = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    await chatAsPerson(desk, 'screenshot desktop', path.join(dir, 'chat.png'), { warmup: 'The LORD is my shepherd;' });
    await desk.close();
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    });
    await chatAsPerson(phone, 'screenshot phone', path.join(dir, 'chat-phone.png'), { warmup: null });
    await phone.close();
  } finally {
    await browser.close();
  }
}

try {
  if (args.model) await checkAutorun();
  if (args.cases) for (const c of JSON.parse(fs.readFileSync(String(args.cases), 'utf8'))) await runCase(c);
  if (args.screenshots) await screenshots(String(args.screenshots));
} catch (e) {
  fail('exception', String((e && e.stack) || e));
}
console.log(failures ? `browser: ${failures} failure(s)` : 'browser: all checks passed');
process.exit(failures ? 1 : 0);
