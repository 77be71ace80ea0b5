// wgpt in the browser: the C engine built to WebAssembly (wgpt.wasm), with
// its GPU layer (src/gpu/gpu_browser.c) calling the "wgpu" imports below,
// which drive navigator.gpu. Same WGSL kernels, tokenizer and sampling as
// the native CLI. No runtime dependencies.
//
//   const w = await WGPT.create();
//   await w.load('model.gguf', { onProgress });   // or a Hugging Face folder: 'models/gemma/'
//   for await (const { text } of w.generate('Once upon a time')) ...
//
// Nothing blocks: generation is driven a step at a time (submit, await the
// logits read-back, collect), weights are fetched one tensor at a time with
// HTTP Range requests and kept in the Cache API for the next visit.

const OK = 0, PENDING = 1;
const CACHE_NAME = 'wgpt-weights';
const ERRLEN = 1024;
const WARM_STEPS = 48, WARM_CTX = 64; // decode steps run once a model is in, and their context (_warmUp)
const PIECE = 32 << 20; // bytes of a tensor fetched (and cached) at a time

// Usage bits of src/gpu/gpu.h.
const U_STORAGE = 1, U_UNIFORM = 2, U_READBACK = 4, U_QUERY_RESOLVE = 16;

const enc = new TextEncoder();
const dec = new TextDecoder();

function describeAdapter(info) {
  info = info || {};
  const parts = [info.vendor, info.architecture, info.device].filter(Boolean).join(' ');
  const name = info.description || parts || 'WebGPU adapter';
  return {
    name,
    backend: 'WebGPU',
    kind: info.isFallbackAdapter ? 'cpu' : (/swiftshader|llvmpipe|lavapipe|warp/i.test(name) ? 'cpu' : 'unknown'),
    driver: info.driver || parts || '',
  };
}

// The "wgpu" import module: WebGPU objects in a table, errors and read-back
// completions recorded as they arrive so the C side can poll for them.
class GpuBridge {
  constructor(device, adapterInfo) {
    this.device = device;
    this.info = adapterInfo;
    this.desc = describeAdapter(adapterInfo);
    this.objs = [null];
    this.freeSlots = [];
    this.error = null;          // the first error not yet taken by C
    this.lastError = null;      // the last one seen (for messages)
    this.pending = new Set();   // promises of error scopes not yet settled
    this.maps = new Map();      // buffer handle -> read-back state
    this.pendingMaps = new Set(); // promises of the read-backs not yet settled, in the order begun
    this.encoder = null;
    this.pass = null;
    this.lost = null;
    this.memory = null;         // set once the wasm instance exists
    device.addEventListener('uncapturederror', (ev) => this.record(errorText(ev.error)));
  }

  record(msg) {
    msg = String(msg).replace(/[\r\n]+/g, ' ').trim();
    this.lastError = msg;
    if (!this.error) this.error = msg;
  }

  track(p) {
    const q = p.catch((e) => this.record(errorText(e))).finally(() => this.pending.delete(q));
    this.pending.add(q);
  }

  // Waits until every error scope opened so far has reported, and the queue
  // has finished its work; returns the first error not yet taken, or null.
  async settle() {
    await this.device.queue.onSubmittedWorkDone().catch(() => {});
    while (this.pending.size) await Promise.all([...this.pending]);
    return this.lost || this.error;
  }

  put(o) {
    const h = this.freeSlots.length ? this.freeSlots.pop() : this.objs.length;
    this.objs[h] = o;
    return h;
  }

  drop(h) {
    if (h > 0 && this.objs[h] != null) { this.objs[h] = null; this.freeSlots.push(h); }
  }

  bytes() { return new Uint8Array(this.memory.buffer); }
  str(ptr, len) {
    const m = this.bytes();
    if (len === undefined) { len = 0; while (m[ptr + len]) len++; }
    return dec.decode(m.subarray(ptr, ptr + len));
  }
  putStr(s, ptr, cap) {
    if (cap <= 0) return 0;
    let b = enc.encode(s);
    if (b.length > cap - 1) b = b.subarray(0, cap - 1);
    const m = this.bytes();
    m.set(b, ptr);
    m[ptr + b.length] = 0;
    return b.length;
  }

  endPass() {
    if (this.pass) { this.pass.end(); this.pass = null; }
  }
  ensureEncoder() {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'forward' });
    return this.encoder;
  }

  imports() {
    const dev = this.device;
    return {
      limits: (ptr, n) => {
        ptr >>>= 0;
        if (!dev || this.lost) return -1;
        const L = dev.limits, f = dev.features, info = this.info || {};
        const v = [L.maxStorageBufferBindingSize, L.maxBufferSize, L.maxComputeWorkgroupStorageSize,
          L.maxComputeInvocationsPerWorkgroup, L.maxComputeWorkgroupsPerDimension,
          L.minStorageBufferOffsetAlignment, L.minUniformBufferOffsetAlignment,
          f.has('subgroups') ? 1 : 0, f.has('shader-f16') ? 1 : 0, f.has('timestamp-query') ? 1 : 0,
          info.subgroupMinSize || 0, info.subgroupMaxSize || 0, L.maxStorageBuffersPerShaderStage];
        const dv = new DataView(this.memory.buffer);
        for (let i = 0; i < n && i < v.length; i++) dv.setFloat64(ptr + 8 * i, Number(v[i]) || 0, true);
        return 0;
      },
      adapter_str: (which, ptr, cap) => {
        ptr >>>= 0;
        const d = this.desc;
        return this.putStr([d.name, d.backend, d.kind, d.driver][which] || '', ptr, cap);
      },
      take_error: (ptr, cap) => {
        ptr >>>= 0;
        const e = this.error || this.lost;
        if (!e) return 0;
        if (e === this.error) this.error = null;
        return this.putStr(e, ptr, cap);
      },
      buffer_create: (size, usage, labelPtr) => {
        const label = this.str(labelPtr >>> 0);
        let u;
        if (usage & U_READBACK) u = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
        else {
          u = GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
          if (usage & U_STORAGE) u |= GPUBufferUsage.STORAGE;
          if (usage & U_UNIFORM) u |= GPUBufferUsage.UNIFORM;
          if (usage & U_QUERY_RESOLVE) u |= GPUBufferUsage.QUERY_RESOLVE;
        }
        if (size > dev.limits.maxBufferSize) {
          this.record(`cannot allocate ${label}: ${size} bytes exceed the device's maxBufferSize of ${dev.limits.maxBufferSize}`);
          return 0;
        }
        dev.pushErrorScope('out-of-memory');
        let buf;
        try {
          buf = dev.createBuffer({ size, usage: u, label });
        } catch (e) {
          dev.popErrorScope().catch(() => {});
          this.record(`cannot allocate ${label} (${mb(size)}): ${errorText(e)}`);
          return 0;
        }
        this.track(dev.popErrorScope().then((e) => {
          if (e) this.record(`GPU out of memory: cannot allocate ${label} (${mb(size)}): ${e.message}`);
        }));
        return this.put(buf);
      },
      buffer_destroy: (h) => {
        const m = this.maps.get(h);
        if (m) { m.forgotten = true; this.maps.delete(h); }
        const b = this.objs[h];
        if (b) b.destroy();
        this.drop(h);
      },
      buffer_write: (h, offset, ptr, size) => {
        dev.queue.writeBuffer(this.objs[h], offset, this.memory.buffer, ptr >>> 0, size);
      },
      kernel_create: (srcPtr, len, labelPtr) => {
        const code = this.str(srcPtr >>> 0, len), label = this.str(labelPtr >>> 0);
        dev.pushErrorScope('validation');
        let module, pipeline;
        try {
          module = dev.createShaderModule({ code, label });
          pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
        } catch (e) {
          dev.popErrorScope().catch(() => {});
          this.record(errorText(e));
          return 0;
        }
        this.track(dev.popErrorScope().then(async (e) => {
          if (!e) return;
          let detail = '';
          try {
            const info = await module.getCompilationInfo();
            detail = info.messages.filter((m) => m.type === 'error')
              .map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}`).join('; ');
          } catch { /* no details */ }
          this.record(`kernel ${label}: ${detail || e.message}`);
        }));
        return this.put({ pipeline, layout: null, label });
      },
      release: (h) => this.drop(h),
      bindings_create: (k, ptr, n) => {
        const kern = this.objs[k];
        const f = new Float64Array(this.memory.buffer, ptr >>> 0, 3 * n);
        const entries = [];
        for (let i = 0; i < n; i++)
          entries.push({ binding: i, resource: { buffer: this.objs[f[3 * i]], offset: f[3 * i + 1], size: f[3 * i + 2] } });
        dev.pushErrorScope('validation');
        let group;
        try {
          if (!kern.layout) kern.layout = kern.pipeline.getBindGroupLayout(0);
          group = dev.createBindGroup({ layout: kern.layout, entries });
        } catch (e) {
          dev.popErrorScope().catch(() => {});
          this.record(`bind group for ${kern.label}: ${errorText(e)}`);
          return 0;
        }
        this.track(dev.popErrorScope().then((e) => {
          if (e) this.record(`bind group for ${kern.label}: ${e.message}`);
        }));
        return this.put(group);
      },
      dispatch: (k, g, x, y, z) => {
        if (!this.pass) this.pass = this.ensureEncoder().beginComputePass();
        this.pass.setPipeline(this.objs[k].pipeline);
        this.pass.setBindGroup(0, this.objs[g]);
        this.pass.dispatchWorkgroups(x, y, z);
      },
      copy: (src, srcOff, dst, dstOff, size) => {
        this.ensureEncoder();
        this.endPass();
        this.encoder.copyBufferToBuffer(this.objs[src], srcOff, this.objs[dst], dstOff, size);
      },
      submit: () => {
        if (!this.encoder) return 0;
        try {
          this.endPass();
          const cb = this.encoder.finish();
          this.encoder = null;
          dev.queue.submit([cb]);
          return 0;
        } catch (e) {
          this.encoder = null;
          this.pass = null;
          this.record(errorText(e));
          return -1;
        }
      },
      read_begin: (h, dst, size) => {
        dst >>>= 0;
        const buf = this.objs[h];
        const m = { state: 0, forgotten: false };
        this.maps.set(h, m);
        let p;
        try {
          p = buf.mapAsync(GPUMapMode.READ, 0, size);
        } catch (e) {
          this.record(`read-back: ${errorText(e)}`);
          return -1;
        }
        const done = p.then(() => {
          if (!m.forgotten) {
            // wasm memory may have grown since read_begin: take it now.
            this.bytes().set(new Uint8Array(buf.getMappedRange(0, size)), dst);
          }
          buf.unmap();
          m.state = 1;
        }, (e) => {
          m.state = -1;
          if (!m.forgotten) this.record(this.lost || `read-back failed: ${errorText(e)}`);
        });
        this.pendingMaps.add(done);
        done.then(() => this.pendingMaps.delete(done));
        return 0;
      },
      read_state: (h) => {
        const m = this.maps.get(h);
        if (!m) return -1;
        if (m.state !== 0) this.maps.delete(h);
        return m.state;
      },
      read_end: (h) => {
        const m = this.maps.get(h);
        if (!m) return;
        m.forgotten = true;
        this.maps.delete(h);
        if (m.state === 0) try { this.objs[h].unmap(); } catch { /* destroyed */ }
      },
    };
  }
}

function errorText(e) {
  if (!e) return 'unknown error';
  const kind = (typeof GPUOutOfMemoryError !== 'undefined' && e instanceof GPUOutOfMemoryError) ? 'GPU out of memory: '
    : (typeof GPUValidationError !== 'undefined' && e instanceof GPUValidationError) ? 'GPU validation error: ' : '';
  return kind + (e.message || String(e));
}

function mb(n) { return `${(n / 1048576).toFixed(1)} MB`; }

// The WASI functions wasi-libc needs, reduced to what a library in a page
// uses: stdout/stderr to the console, clocks, randomness; no files.
function wasiShim(getMemory) {
  const EBADF = 8, ENOSYS = 52, EINVAL = 28;
  const lines = { 1: '', 2: '' };
  const view = () => new DataView(getMemory().buffer);
  return {
    fd_write(fd, iovs, iovsLen, nwrittenPtr) {
      iovs >>>= 0; nwrittenPtr >>>= 0;
      const dv = view(), mem = new Uint8Array(getMemory().buffer);
      let n = 0, text = '';
      for (let i = 0; i < iovsLen; i++) {
        const ptr = dv.getUint32(iovs + 8 * i, true), len = dv.getUint32(iovs + 8 * i + 4, true);
        text += dec.decode(mem.subarray(ptr, ptr + len), { stream: true });
        n += len;
      }
      dv.setUint32(nwrittenPtr, n, true);
      if (fd !== 1 && fd !== 2) return EBADF;
      const all = lines[fd] + text, cut = all.lastIndexOf('\n');
      if (cut >= 0) {
        for (const line of all.slice(0, cut).split('\n')) (fd === 2 ? console.warn : console.log)(line.replace(/\r/g, ''));
        lines[fd] = all.slice(cut + 1);
      } else lines[fd] = all;
      return 0;
    },
    clock_time_get(id, precision, outPtr) {
      const ns = id === 0 ? BigInt(Date.now()) * 1000000n : BigInt(Math.round(performance.now() * 1e6));
      view().setBigUint64(outPtr >>> 0, ns, true);
      return 0;
    },
    clock_res_get(id, outPtr) { view().setBigUint64(outPtr >>> 0, 1000n, true); return 0; },
    random_get(ptr, len) {
      const m = new Uint8Array(getMemory().buffer, ptr >>> 0, len);
      for (let i = 0; i < len; i += 65536) crypto.getRandomValues(m.subarray(i, Math.min(len, i + 65536)));
      return 0;
    },
    environ_sizes_get(countPtr, sizePtr) { const dv = view(); dv.setUint32(countPtr >>> 0, 0, true); dv.setUint32(sizePtr >>> 0, 0, true); return 0; },
    environ_get() { return 0; },
    args_sizes_get(countPtr, sizePtr) { const dv = view(); dv.setUint32(countPtr >>> 0, 0, true); dv.setUint32(sizePtr >>> 0, 0, true); return 0; },
    args_get() { return 0; },
    proc_exit(code) { throw new Error(`wgpt.wasm exited (status ${code})`); },
    fd_close() { return EBADF; },
    fd_seek() { return EBADF; },
    fd_read() { return EBADF; },
    fd_fdstat_get() { return EBADF; },
    fd_fdstat_set_flags() { return EBADF; },
    fd_prestat_get() { return EBADF; },
    fd_prestat_dir_name() { return EBADF; },
    fd_filestat_get() { return EBADF; },
    path_open() { return ENOSYS; },
    path_filestat_get() { return ENOSYS; },
    poll_oneoff() { return ENOSYS; },
    sched_yield() { return 0; },
    _invalid() { return EINVAL; },
  };
}

// ---- byte sources: a URL (Range requests, Cache API) or a File/Blob ----

class UrlSource {
  constructor(url) {
    this.url = new URL(url, globalThis.location?.href).href;
    this.size = 0;
    this.cache = null;
    this.fromNetwork = 0;
    this.fromCacheBytes = 0;
    this.requests = 0;
  }

  // Cache keys: the file's URL with the range as a query parameter (the
  // Cache API ignores fragments when matching, so URL#bytes=a-b would make
  // every range of a file the same entry).
  key(what) {
    const u = new URL(this.url);
    u.hash = '';
    u.searchParams.append('wgpt-cache', what);
    return u.href;
  }
  rangeKey(a, b) { return this.key(`bytes=${a}-${b - 1}`); }

  // The file's size is kept beside its ranges (key URL#size), so that a
  // second visit asks for exactly the ranges the first one stored.
  async open() {
    try {
      if (globalThis.caches) this.cache = await caches.open(CACHE_NAME);
    } catch { this.cache = null; /* not a secure context, or storage refused */ }
    if (!this.cache) return;
    const hit = await this.cache.match(this.key('size')).catch(() => null);
    const n = hit ? Number(await hit.text()) : 0;
    if (n > 0) this.size = n;
  }

  // Bytes [a, b) of the file; on the first call b may exceed the file size
  // (the size is learned from the answer). Returns { bytes, cached }.
  async read(a, b) {
    if (this.size) b = Math.min(b, this.size);
    const key = this.rangeKey(a, b);
    if (this.cache) {
      const hit = await this.cache.match(key).catch(() => null);
      if (hit) {
        const total = Number(hit.headers.get('x-wgpt-file-size'));
        const bytes = new Uint8Array(await hit.arrayBuffer());
        if (bytes.length === b - a && total > 0) {
          if (!this.size) this.size = total;
          this.fromCacheBytes += bytes.length;
          return { bytes, cached: true };
        }
      }
    }
    const res = await fetch(this.url, { headers: { Range: `bytes=${a}-${b - 1}` }, cache: 'no-store' });
    this.requests++;
    if (res.status === 200) {
      // No Range support: the whole file came back. Keep serving from it.
      const all = new Uint8Array(await res.arrayBuffer());
      this.size = all.length;
      this.whole = all;
      this.fromNetwork += all.length;
      return { bytes: all.subarray(a, Math.min(b, all.length)), cached: false, whole: true };
    }
    if (res.status !== 206) {
      throw Object.assign(new Error(`${this.url}: HTTP ${res.status} ${res.statusText}`.trim()), { status: res.status });
    }
    const cr = res.headers.get('content-range') || '';
    const m = /bytes\s+(\d+)-(\d+)\/(\d+|\*)/i.exec(cr);
    if (!m || Number(m[1]) !== a) throw new Error(`${this.url}: the server answered a Range request without a usable Content-Range ('${cr}')`);
    if (m[3] !== '*') {
      const total = Number(m[3]);
      if (this.size && this.size !== total) {
        throw new Error(`${this.url} is now ${total} bytes, not the ${this.size} cached: clear the cache and load again`);
      }
    }
    if (m[3] !== '*' && !this.size) {
      this.size = Number(m[3]);
      if (this.cache) await this.cache.put(this.key('size'), new Response(String(this.size))).catch(() => {});
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    this.fromNetwork += bytes.length;
    const want = Math.min(b, this.size || b) - a;
    if (bytes.length !== want) throw new Error(`${this.url}: got ${bytes.length} bytes for range ${a}-${a + want - 1}`);
    if (this.cache && this.size) {
      const body = new Response(bytes, {
        status: 200,
        headers: { 'content-type': 'application/octet-stream', 'x-wgpt-file-size': String(this.size) },
      });
      // Stored while the next range is fetched and uploaded; one at a time,
      // so at most one range beyond the current is held in memory.
      if (this.putting) await this.putting;
      this.putting = this.cache.put(this.rangeKey(a, a + bytes.length), body)
        .catch((e) => console.warn(`wgpt: not cached: ${e.message}`))
        .finally(() => { this.putting = null; });
    }
    return { bytes, cached: false };
  }

  async flush() { if (this.putting) await this.putting; }
}

class BlobSource {
  constructor(blob) { this.blob = blob; this.size = blob.size; this.fromNetwork = 0; this.fromCacheBytes = 0; this.requests = 0; }
  async open() {}
  async flush() {}
  async read(a, b) {
    b = Math.min(b, this.size);
    return { bytes: new Uint8Array(await this.blob.slice(a, b).arrayBuffer()), cached: false };
  }
}

class WholeSource { // a server without Range support sent everything at once
  constructor(src) { this.src = src; this.size = src.size; }
  async flush() {}
  async read(a, b) { return { bytes: this.src.whole.subarray(a, Math.min(b, this.size)), cached: false }; }
}

// ---- the engine ----

export class WGPT {
  static async create({ wasmUrl = 'wgpt.wasm' } = {}) {
    const gpu = globalThis.navigator?.gpu;
    if (!gpu) {
      throw new Error('WebGPU is not available in this browser (navigator.gpu is missing): use a recent Chrome, Edge or ' +
        'Safari, served over https or from localhost');
    }
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('WebGPU is present but offered no GPU adapter (the GPU may be blocklisted or disabled)');
    const features = ['subgroups', 'timestamp-query'].filter((f) => adapter.features.has(f));
    const AL = adapter.limits;
    const requiredLimits = {
      maxStorageBufferBindingSize: AL.maxStorageBufferBindingSize,
      maxBufferSize: AL.maxBufferSize,
      maxComputeWorkgroupStorageSize: AL.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: AL.maxStorageBuffersPerShaderStage,
      maxComputeInvocationsPerWorkgroup: AL.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: AL.maxComputeWorkgroupSizeX,
    };
    let device;
    try {
      device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits, label: 'wgpt' });
    } catch (e) {
      throw new Error(`WebGPU could not create a device: ${errorText(e)}`);
    }
    const info = device.adapterInfo || adapter.info || {};
    const w = new WGPT(device, info);
    await w._instantiate(wasmUrl);
    return w;
  }

  constructor(device, adapterInfo) {
    this.device = device;
    this.gpu = new GpuBridge(device, adapterInfo);
    this.onDeviceLost = null;
    this.model = 0;
    this.ctx = 0;
    this.ctxKey = '';
    this.busy = false;
    this.lastLoad = null;
    device.lost.then((info) => {
      if (info.reason === 'destroyed' && this.destroyed) return;
      const msg = `GPU device lost${info.reason && info.reason !== 'unknown' ? ` (${info.reason})` : ''}: ${info.message || 'no reason given'}`;
      this.gpu.lost = msg;
      if (typeof this.onDeviceLost === 'function') {
        try { this.onDeviceLost(msg); } catch (e) { console.error(e); }
      } else console.error(`wgpt: ${msg}`);
    });
  }

  async _instantiate(wasmUrl) {
    const imports = { wgpu: this.gpu.imports(), wasi_snapshot_preview1: wasiShim(() => this.gpu.memory) };
    let result;
    const res = await fetch(wasmUrl);
    if (!res.ok) throw new Error(`cannot fetch ${wasmUrl}: HTTP ${res.status}`);
    if (WebAssembly.instantiateStreaming && (res.headers.get('content-type') || '').startsWith('application/wasm')) {
      result = await WebAssembly.instantiateStreaming(res, imports);
    } else {
      result = await WebAssembly.instantiate(await res.arrayBuffer(), imports);
    }
    this.x = result.instance.exports;
    this.gpu.memory = this.x.memory;
    this.x._initialize();
    this.scratch = this.x.wgptw_malloc(64) >>> 0;  // out-parameters
    this.err = this.x.wgptw_malloc(ERRLEN) >>> 0;
  }

  // ---- wasm memory helpers ----
  _u8() { return new Uint8Array(this.x.memory.buffer); }
  _dv() { return new DataView(this.x.memory.buffer); }
  _cstr(ptr) { return ptr ? this.gpu.str(ptr >>> 0) : ''; }
  _errText() { return this._cstr(this.err); }
  _copyIn(bytes) {
    const p = this.x.wgptw_malloc(bytes.length) >>> 0;
    if (!p) throw new Error(`out of WebAssembly memory (${mb(bytes.length)} wanted)`);
    this._u8().set(bytes, p);
    return p;
  }
  _checkAlive() {
    if (this.destroyed) throw new Error('this WGPT was destroyed');
    if (this.gpu.lost) throw new Error(this.gpu.lost);
  }
  _gpuFail(prefix, fallback) {
    const e = this.gpu.lost || this.gpu.error || fallback;
    this.gpu.error = null;
    return new Error(prefix ? `${prefix}: ${e}` : e);
  }

  _freeModel() {
    if (this.ctx) { this.x.wgptw_context_free(this.ctx); this.ctx = 0; this.ctxKey = ''; }
    if (this.model) { this.x.wgptw_model_free(this.model); this.model = 0; }
  }

  // source: a URL string or a File/Blob. A URL ending in '/' (or any URL
  // with folder: true) is a model folder (Hugging Face or WebGPT layout).
  // options: onProgress({ loaded, total, bytesPerSec, fromCache });
  // maxBinding (tests: force splitting).
  async load(source, { onProgress, maxBinding = 0, verbose = false, folder } = {}) {
    this._checkAlive();
    if (this.busy) throw new Error('busy: a load or generation is running');
    const isUrl = typeof source === 'string' || source instanceof URL;
    if (isUrl && (folder ?? new URL(String(source), globalThis.location?.href).pathname.endsWith('/'))) {
      this.busy = true;
      try {
        this._freeModel();
        return await this._loadFolder(String(source), { onProgress, maxBinding, verbose });
      } finally {
        this.busy = false;
      }
    }
    this.busy = true;
    const x = this.x, S = this.scratch;
    let src = typeof source === 'string' || source instanceof URL ? new UrlSource(String(source)) : new BlobSource(source);
    const name = typeof source === 'string' ? source : (source.name || 'file');
    let loader = 0;
    try {
      this._freeModel();
      await src.open();
      const t0 = performance.now();
      let loaded = 0, allCached = true, head = new Uint8Array(0), tFetch = 0, tCopy = 0, tUpload = 0;
      const progress = (n, cached) => {
        loaded += n;
        allCached = allCached && cached;
        if (onProgress) {
          const dt = (performance.now() - t0) / 1000;
          try {
            onProgress({ loaded: Math.min(loaded, src.size || loaded), total: src.size || loaded, bytesPerSec: dt > 0 ? loaded / dt : 0, fromCache: allCached });
          } catch (e) { console.error(e); }
        }
      };
      // The header: grow the prefix until the loader has all it needs. It
      // asks for more only while the header is valid and goes on past the
      // bytes held, so anything else (not a GGUF, a damaged header) stops
      // at the first answer. Each round fetches only the bytes not held yet.
      let want = src.size ? Math.min(src.size, 1 << 20) : (1 << 20);
      for (;;) {
        const r = await src.read(head.length, want);
        if (r.whole) src = new WholeSource(src);
        if (!src.size) throw new Error(`${name}: the server did not say how large the file is`);
        progress(r.bytes.length, r.cached);
        if (head.length === 0) head = r.bytes;
        else {
          const grown = new Uint8Array(head.length + r.bytes.length);
          grown.set(head);
          grown.set(r.bytes, head.length);
          head = grown;
        }
        const p = this._copyIn(head);
        const st = x.wgptw_loader_begin(p, head.length, src.size, maxBinding, verbose ? 1 : 0, S, S + 8, this.err, ERRLEN);
        x.wgptw_free(p);
        if (st === PENDING) {
          const need = this._dv().getFloat64(S + 8, true);
          if (!(need > head.length && need <= src.size)) throw new Error(`${name}: ${this._errText() || 'the GGUF header is truncated'}`);
          want = need;
          continue;
        }
        if (st !== OK) throw new Error(`${name}: ${this._errText()}`);
        loader = this._dv().getUint32(S, true);
        break;
      }
      // Kernels were compiled: their errors (if any) come in now.
      if (await this.gpu.settle()) throw this._gpuFail('compiling the kernels');
      // The weights, one tensor at a time, in file order.
      for (;;) {
        const st = x.wgptw_loader_next(loader, S, S + 8);
        if (st === OK) break;
        if (st !== PENDING) throw new Error(`${name}: loader error ${st}`);
        const off = this._dv().getFloat64(S, true), size = this._dv().getFloat64(S + 8, true);
        // A tensor goes straight into wasm memory, fetched in pieces of at
        // most PIECE bytes (each its own Range request and cache entry), so
        // JS holds one piece at a time. Tensors inside the header's prefix
        // (small files) are not fetched again.
        const p = this.x.wgptw_malloc(size) >>> 0;
        if (!p) throw new Error(`${name}: out of WebAssembly memory (a tensor of ${mb(size)})`);
        try {
          if (off + size <= head.length) this._u8().set(head.subarray(off, off + size), p);
          else {
            for (let pos = 0; pos < size; pos += PIECE) {
              const n = Math.min(PIECE, size - pos);
              const t2 = performance.now();
              const r = await src.read(off + pos, off + pos + n);
              if (this.gpu.lost) throw new Error(this.gpu.lost);
              if (r.bytes.length !== n) throw new Error(`${name}: short read at ${off + pos}`);
              const t3 = performance.now();
              this._u8().set(r.bytes, p + pos);
              tFetch += t3 - t2; tCopy += performance.now() - t3;
              progress(n, r.cached);
            }
          }
          const t4 = performance.now();
          const st2 = x.wgptw_loader_provide(loader, p, size, this.err, ERRLEN);
          tUpload += performance.now() - t4;
          if (st2 !== OK) throw new Error(`${name}: ${this._errText()}`);
        } finally {
          x.wgptw_free(p);
        }
      }
      head = null;
      await src.flush(); // every range in the cache before load() resolves
      const st = x.wgptw_loader_finish(loader, S, this.err, ERRLEN);
      loader = 0; // finish frees it, whatever it returns
      if (st !== OK) throw new Error(`${name}: ${this._errText()}`);
      this.model = this._dv().getUint32(S, true);
      if (await this.gpu.settle()) {
        const e = this._gpuFail(`${name}: uploading weights`);
        this._freeModel();
        throw e;
      }
      this.lastLoad = {
        bytes: loaded, fromNetwork: src.src ? src.src.fromNetwork : src.fromNetwork,
        fromCache: src.src ? 0 : src.fromCacheBytes, requests: src.src ? src.src.requests : src.requests,
        seconds: (performance.now() - t0) / 1000,
        secondsFetching: tFetch / 1000, secondsCopying: tCopy / 1000, secondsUploading: tUpload / 1000,
      };
      await this._warmUp();
      return this.info();
    } finally {
      if (loader) x.wgptw_loader_free(loader);
      this.busy = false;
    }
  }

  // A folder by its base URL. The engine cannot list it: wgptw_folder_load
  // names the next file it reads, which is fetched whole into wasm memory
  // (in pieces of at most PIECE bytes, each its own Range request and
  // Cache API entry, as a GGUF's tensors) or marked absent on a 404, and
  // the load is tried again, until the model is built or an error is final.
  async _loadFolder(baseUrl, { onProgress, maxBinding, verbose }) {
    const x = this.x, S = this.scratch;
    const base = new URL(baseUrl, globalThis.location?.href);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    base.search = ''; base.hash = '';
    const name = base.href;
    const t0 = performance.now();
    let loaded = 0, total = 0, allCached = true, fromNetwork = 0, fromCache = 0, requests = 0, tFetch = 0;
    const progress = (n, cached) => {
      loaded += n;
      allCached = allCached && cached;
      if (!onProgress) return;
      const dt = (performance.now() - t0) / 1000;
      try {
        onProgress({ loaded, total: Math.max(total, loaded), bytesPerSec: dt > 0 ? loaded / dt : 0, fromCache: allCached });
      } catch (e) { console.error(e); }
    };
    const given = new Set();
    const folder = x.wgptw_folder_create();
    if (!folder) throw new Error('out of WebAssembly memory');
    // One file into the folder: true if it exists, false on a 404. Small
    // files (JSON) are returned as bytes too, for the shard list.
    const fetchFile = async (file) => {
      given.add(file);
      const namePtr = this._copyIn(enc.encode(`${file}\0`));
      try {
        // Names with a folder (onnx/model_q4.onnx) keep their slashes.
        const src = new UrlSource(new URL(file.split('/').map(encodeURIComponent).join('/'), base).href);
        await src.open();
        let r;
        const t1 = performance.now();
        try {
          r = await src.read(0, PIECE);
        } catch (e) {
          if (e.status === 416) r = { bytes: new Uint8Array(0), cached: false }; // an empty file
          else if (e.status !== 404) throw e;
          else {
            if (x.wgptw_folder_absent(folder, namePtr) !== OK) throw new Error('out of WebAssembly memory');
            return { found: false };
          }
        }
        const rd = r.whole ? new WholeSource(src) : src;
        const size = src.size || r.bytes.length;
        total += size;
        const p = x.wgptw_folder_add_space(folder, namePtr, size) >>> 0;
        if (!p) throw new Error(`${file}: out of WebAssembly memory (${mb(size)}; a folder's files are held whole)`);
        this._u8().set(r.bytes, p);
        progress(r.bytes.length, r.cached);
        const small = size <= (4 << 20) ? r.bytes.slice() : null;
        for (let pos = r.bytes.length; pos < size; pos += PIECE) {
          const n = Math.min(PIECE, size - pos);
          const q = await rd.read(pos, pos + n);
          if (this.gpu.lost) throw new Error(this.gpu.lost);
          if (q.bytes.length !== n) throw new Error(`${file}: short read at ${pos}`);
          this._u8().set(q.bytes, p + pos);
          progress(n, q.cached);
        }
        tFetch += performance.now() - t1;
        await src.flush(); // every range in the cache before the load goes on
        fromNetwork += src.fromNetwork; fromCache += src.fromCacheBytes; requests += src.requests;
        return { found: true, small };
      } finally {
        x.wgptw_free(namePtr);
      }
    };
    try {
      for (;;) {
        const st = x.wgptw_folder_load(folder, maxBinding, verbose ? 1 : 0, S, S + 4, this.err, ERRLEN);
        if (st === OK) { this.model = this._dv().getUint32(S, true); break; }
        if (st !== PENDING) throw new Error(`${name}: ${this._errText()}`);
        const need = this._cstr(this._dv().getUint32(S + 4, true));
        // Asked again for a file it has: the engine would loop.
        if (given.has(need)) throw new Error(`${name}: the engine asked twice for ${need}`);
        const got = await fetchFile(need);
        // The shards the index names, fetched now rather than one round each.
        if (need === 'model.safetensors.index.json' && got.small) {
          let shards = [];
          try {
            shards = [...new Set(Object.values(JSON.parse(dec.decode(got.small)).weight_map || {}))];
          } catch { /* the engine says what is wrong with it */ }
          for (const f of shards) {
            if (typeof f === 'string' && f && !/[/\\]/.test(f) && f !== '.' && f !== '..' && !given.has(f)) await fetchFile(f);
          }
        }
      }
      if (await this.gpu.settle()) {
        const e = this._gpuFail(`${name}: uploading weights`);
        this._freeModel();
        throw e;
      }
      this.lastLoad = {
        bytes: loaded, fromNetwork, fromCache, requests, files: given.size,
        seconds: (performance.now() - t0) / 1000, secondsFetching: tFetch / 1000,
      };
      await this._warmUp();
      return this.info();
    } finally {
      x.wgptw_folder_free(folder);
    }
  }

  info() {
    if (!this.model) return null;
    const x = this.x, m = this.model;
    const train = x.wgptw_model_n_ctx_train(m);
    return {
      desc: this._cstr(x.wgptw_model_desc(m)),
      nVocab: x.wgptw_model_n_vocab(m),
      nCtx: Math.min(train, 4096),
      nCtxTrain: train,
      adapter: this._cstr(x.wgptw_model_adapter(m)),
    };
  }

  // One decode step of context c: the next token's id.
  async _step(c) {
    const x = this.x, S = this.scratch;
    if (x.wgptw_step_submit(c) !== OK) throw new Error(this._cstr(x.wgptw_errmsg(c)) || this._gpuFail('', 'step failed').message);
    let r;
    for (;;) {
      r = x.wgptw_step_collect(c, S);
      if (r !== PENDING) break;
      // Steps queued ahead have read-backs of their own, begun later:
      // wake at the first to settle, not the last.
      const maps = this.gpu.pendingMaps;
      if (this.gpu.lost) throw new Error(this.gpu.lost);
      if (maps.size) await Promise.race(maps); else await new Promise((res) => setTimeout(res, 1));
    }
    if (r !== OK) throw new Error(this._cstr(x.wgptw_errmsg(c)));
    return this._dv().getInt32(S, true);
  }

  // Decode steps on a small context of its own, their tokens dropped, once
  // a model is in (as llama.cpp warms up at load): on the H200 a page's
  // first ~25 steps took ~5 ms each against ~1.2 ms after them (Chromium,
  // 2026-11-30, per-token times from the chat page), a start that native
  // runs do not have. Any failure is left for the first real step to report.
  async _warmUp(steps = WARM_STEPS) {
    const x = this.x, S = this.scratch;
    // greedy: temperature 0, no top-k/top-p/min-p, no repetition penalty, seed 0
    if (x.wgptw_context_create(this.model, WARM_CTX, 0, 0, 0, 1, 0, 1, 0, 0, S, this.err, ERRLEN) !== OK) return;
    const c = this._dv().getUint32(S, true);
    try {
      const bos = x.wgptw_token_bos(this.model);
      const p = this._copyIn(new Uint8Array(new Int32Array([bos >= 0 ? bos : 0]).buffer));
      const st = x.wgptw_feed(c, p, 1);
      x.wgptw_free(p);
      if (st !== OK) return;
      for (let i = 0; i < steps && x.wgptw_context_pos(c) < WARM_CTX; i++) await this._step(c);
    } catch { /* the first real step says what went wrong */ } finally {
      x.wgptw_context_free(c);
    }
  }

  _context({ temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed }) {
    const key = JSON.stringify([temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed]);
    if (this.ctx && key === this.ctxKey) { this.x.wgptw_reset(this.ctx); return this.ctx; }
    if (this.ctx) { this.x.wgptw_context_free(this.ctx); this.ctx = 0; this.ctxKey = ''; }
    const st = this.x.wgptw_context_create(this.model, 0, 0, temperature, topK, topP, minP, repeatPenalty,
      repeatLastN, seed, this.scratch, this.err, ERRLEN);
    if (st !== OK) throw new Error(this._errText());
    this.ctx = this._dv().getUint32(this.scratch, true);
    this.ctxKey = key;
    return this.ctx;
  }

  // The model's own chat template (tokenizer.chat_template, a folder's
  // tokenizer_config.json) over [{ role, content }], as `wgpt template -m`
  // renders it. Generate from it with { special: true }: the rendering
  // holds the template's special tokens and its own BOS.
  chatPrompt(messages, { addGenerationPrompt = true } = {}) {
    if (!this.model) throw new Error('no model loaded');
    const x = this.x, S = this.scratch, owned = [];
    try {
      const arr = x.wgptw_malloc(12 * messages.length) >>> 0;
      owned.push(arr);
      messages.forEach((msg, i) => {
        // both NUL-terminated; content_len says where content ends (it may hold NUL)
        const role = enc.encode(String(msg.role) + '\0'), content = enc.encode(String(msg.content) + '\0');
        const pr = this._copyIn(role), pc = this._copyIn(content);
        owned.push(pr, pc);
        const dv = this._dv();
        dv.setUint32(arr + 12 * i, pr, true);
        dv.setUint32(arr + 12 * i + 4, pc, true);
        dv.setUint32(arr + 12 * i + 8, content.length - 1, true);
      });
      const st = x.wgptw_chat_prompt(this.model, arr, messages.length, addGenerationPrompt ? 1 : 0, S, S + 4,
        this.err, ERRLEN);
      if (st !== OK) throw new Error(`chat template: ${this._errText()}`);
      const dv = this._dv(), out = dv.getUint32(S, true), n = dv.getUint32(S + 4, true);
      const text = new TextDecoder('utf-8').decode(new Uint8Array(this.x.memory.buffer, out, n).slice());
      x.wgptw_free(out);
      return text;
    } finally {
      for (const p of owned) x.wgptw_free(p);
    }
  }

  _tokenize(text, special = false) {
    const x = this.x, S = this.scratch, b = enc.encode(text);
    const p = this._copyIn(b);
    const st = x.wgptw_tokenize(this.model, p, b.length, special ? 0 : 1, special ? 1 : 0, S, S + 4, this.err, ERRLEN);
    x.wgptw_free(p);
    if (st !== OK) throw new Error(`prompt: ${this._errText()}`);
    const dv = this._dv(), ids = dv.getUint32(S, true), n = dv.getUint32(S + 4, true);
    const out = new Int32Array(this.x.memory.buffer, ids, n).slice();
    x.wgptw_free(ids);
    return out;
  }

  tokenize(text) { if (!this.model) throw new Error('no model loaded'); return Array.from(this._tokenize(text)); }

  // Yields { text, id, tokPerSec } per generated token. text is the UTF-8
  // decoded piece ('' while a multi-byte character is incomplete).
  // special: the prompt is a chat rendering (chatPrompt): its special-token
  // texts are those tokens and no BOS is added.
  async *generate(prompt, { maxTokens = 128, temperature = 0.8, topK = 40, topP = 0.95, minP = 0.05,
    repeatPenalty = 1.0, repeatLastN = 64, seed = 0, signal, special = false } = {}) {
    this._checkAlive();
    if (!this.model) throw new Error('no model loaded: call load() first');
    if (this.busy) throw new Error('busy: a load or generation is running');
    this.busy = true;
    const x = this.x, S = this.scratch;
    let inflight = false, c = 0;
    try {
      c = this._context({ temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed });
      const ids = this._tokenize(prompt, special);
      if (ids.length === 0) throw new Error('the prompt is empty and the model adds no BOS token');
      const nCtx = x.wgptw_context_n_ctx(c);
      if (ids.length > nCtx) throw new Error(`the prompt (${ids.length} tokens) is longer than the context (${nCtx})`);
      maxTokens = Math.max(0, Math.min(maxTokens, nCtx - ids.length + 1));
      const p = this._copyIn(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
      const st = x.wgptw_feed(c, p, ids.length);
      x.wgptw_free(p);
      if (st !== OK) throw new Error(this._cstr(x.wgptw_errmsg(c)));
      const utf8 = new TextDecoder('utf-8');
      const piece = x.wgptw_malloc(256) >>> 0;
      let generated = 0, tFirst = 0;
      try {
        while (generated < maxTokens && !signal?.aborted) {
          inflight = true;
          const id = await this._step(c);
          inflight = false;
          if (x.wgptw_token_is_eog(this.model, id)) break;
          generated++;
          const now = performance.now();
          if (generated === 1) tFirst = now;
          let len = x.wgptw_token_to_piece(this.model, id, piece, 256);
          const bytes = len > 0 ? this._u8().slice(piece, piece + Math.min(len, 256)) : new Uint8Array(0);
          const text = utf8.decode(bytes, { stream: true });
          const tokPerSec = generated > 1 ? (generated - 1) / ((now - tFirst) / 1000) : 0;
          yield { text, id, tokPerSec };
          if (x.wgptw_context_pos(c) >= nCtx) break;
        }
      } finally {
        x.wgptw_free(piece);
      }
    } finally {
      // An abandoned step (consumer stopped iterating) leaves the context
      // mid-flight: reset it so the next generate starts clean.
      if (inflight && c) x.wgptw_reset(c);
      this.busy = false;
    }
  }

  async clearCache() {
    if (globalThis.caches) await caches.delete(CACHE_NAME);
  }

  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    try { this._freeModel(); } catch (e) { console.error(e); }
    this.device.destroy();
  }
}

export default WGPT;
