// A stand-in for build/web/wgpt.js with the same API (see src/web/app.js),
// for working on the page without the WebAssembly build: it downloads the
// model with Range requests into the Cache API like the real loader, then
// "generates" words from a fixed text. Not used by the tests' verdicts.
// Use: copy src/web/* and this file (as wgpt.js) into a folder and serve it
// with `wgpt serve-web --root DIR`.
const WORDS = ('And it came to pass , that when the men of the city saw it , they said one to another , ' +
  'Behold , the LORD hath done great things for us ; whereof we are glad . ' +
  'And the people rejoiced , and blessed the God of their fathers , and went every man unto his own house .').split(' ');

export class WGPT {
  static async create({ wasmUrl } = {}) {
    if (!navigator.gpu) throw new Error('no WebGPU');
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter');
    const w = new WGPT();
    w.adapter = adapter.info ? `${adapter.info.vendor} ${adapter.info.device || adapter.info.description || ''}`.trim() : 'WebGPU';
    w.wasmUrl = wasmUrl;
    w.onDeviceLost = null;
    globalThis.__mockLoseDevice = (msg) => w.onDeviceLost && w.onDeviceLost(msg || 'mock: the device was destroyed');
    return w;
  }

  async load(src, { onProgress } = {}) {
    const t0 = performance.now();
    const report = (loaded, total, fromCache) =>
      onProgress && onProgress({ loaded, total, fromCache, bytesPerSec: loaded / Math.max(1e-3, (performance.now() - t0) / 1000) });
    if (typeof src !== 'string') { // a File
      report(src.size, src.size, false);
      this.name = src.name;
      return;
    }
    const cache = await caches.open('wgpt-weights');
    const hit = await cache.match(src);
    if (hit) {
      const n = (await hit.arrayBuffer()).byteLength;
      report(n, n, true);
      this.name = src;
      return;
    }
    const head = await fetch(src, { method: 'HEAD' });
    if (!head.ok) throw new Error(`HTTP ${head.status} for ${src}`);
    const total = Number(head.headers.get('Content-Length'));
    const parts = [];
    const chunk = 1 << 20;
    for (let off = 0; off < total; off += chunk) {
      const r = await fetch(src, { headers: { Range: `bytes=${off}-${Math.min(total, off + chunk) - 1}` } });
      if (r.status !== 206) throw new Error(`HTTP ${r.status} for a range of ${src}`);
      parts.push(new Uint8Array(await r.arrayBuffer()));
      report(Math.min(total, off + chunk), total, false);
      await new Promise((res) => setTimeout(res, 30));
    }
    await cache.put(src, new Response(new Blob(parts)));
    this.name = src;
  }

  info() { return { desc: 'mock llama 11M F16', nVocab: 4096, nCtx: 256, adapter: this.adapter }; }

  async *generate(prompt, { maxTokens = 128, signal, seed = 1 } = {}) {
    const t0 = performance.now();
    for (let i = 0; i < maxTokens; i++) {
      if (signal && signal.aborted) throw new DOMException('aborted', 'AbortError');
      await new Promise((res) => setTimeout(res, 60));
      const word = WORDS[(i + (seed % 7)) % WORDS.length];
      const text = /^[,.;]$/.test(word) ? word : ` ${word}`;
      yield { text, id: 100 + ((i + (seed % 7)) % WORDS.length), tokPerSec: (i + 1) / ((performance.now() - t0) / 1000) };
    }
  }

  async clearCache() { await caches.delete('wgpt-weights'); }
  destroy() {}
}
