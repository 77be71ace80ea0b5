#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol with the Python
standard library alone (a minimal WebSocket client): for machines with
Chromium but no Node.js, such as the GPU machine (scripts/device_browser.sh).

  cdp.py adapter URL   [--chromium PATH] [--flag F ...]
      opens URL (a page of ours, served over http://127.0.0.1: WebGPU needs a
      secure context) and prints the WebGPU adapter's info as JSON.
  cdp.py autorun URL   [--timeout S] [--screenshot FILE] ...
      opens URL (the chat page with &autorun=1), waits for document.title
      "done" or "error: ...", prints what the page wrote (title, #ids,
      #output, tok/s, adapter) as JSON. Exit 0 when the title is "done".
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

BASE_FLAGS = [
    "--headless", "--no-sandbox", "--enable-unsafe-webgpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--mute-audio",
]


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol (text frames)."""

    def __init__(self, url, timeout=30):
        assert url.startswith("ws://")
        hostport, _, path = url[5:].partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port or 80)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            resp += chunk
        head, _, self.buf = resp.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(f"websocket handshake refused: {head[:200]!r}")

    def send(self, text):
        data = text.encode()
        n = len(data)
        hdr = bytes([0x81])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            op = b0 & 0x0F
            if op == 0x9:  # ping
                self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
                continue
            if op == 0x8:
                raise ConnectionError("websocket closed by the browser")
            message += payload
            if b0 & 0x80:
                return message.decode("utf-8", "replace")


class Browser:
    def __init__(self, chromium, flags, log_path, lib_path=None):
        self.profile = tempfile.mkdtemp(prefix="wgpt-cdp-")
        env = dict(os.environ)
        if lib_path:  # the browser's own libraries, for it alone (not for this Python)
            env["LD_LIBRARY_PATH"] = lib_path + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        args = [chromium, *BASE_FLAGS, *flags, f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1", "about:blank"]
        self.log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        # Its own process group, so that every Chromium process goes with it.
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, env=env, start_new_session=True)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        for _ in range(300):
            if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited at start (code {self.proc.returncode})")
            time.sleep(0.1)
        else:
            raise RuntimeError("chromium did not open its DevTools port in 30 s")
        self.port = int(open(port_file).read().split("\n")[0])
        pages = []
        for _ in range(100):
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if pages:
                break
            time.sleep(0.1)
        if not pages:
            raise RuntimeError("chromium has no page target")
        self.ws = WebSocket(pages[0]["webSocketDebuggerUrl"])
        self.next_id = 0

    def call(self, method, timeout=60, **params):
        self.next_id += 1
        my = self.next_id
        self.ws.sock.settimeout(timeout)
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def evaluate(self, expression, timeout=60):
        r = self.call("Runtime.evaluate", timeout=timeout, expression=expression,
                      returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page exception: {r['exceptionDetails'].get('text')} "
                               f"{r['exceptionDetails'].get('exception', {}).get('description', '')}")
        return r.get("result", {}).get("value")

    def goto(self, url):
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        for _ in range(600):  # until the new document is there
            try:
                if self.evaluate("location.href") == url and self.evaluate("document.readyState") != "loading":
                    return
            except RuntimeError:
                pass
            time.sleep(0.1)

    def screenshot(self, path, width=1100, height=760):
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # helpers (GPU process, renderers) too
        except ProcessLookupError:
            pass
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


ADAPTER_JS = """(async () => {
  if (!navigator.gpu) return { error: 'navigator.gpu missing (secure context: ' + isSecureContext + ')' };
  const a = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!a) return { error: 'requestAdapter returned null' };
  const i = a.info || {};
  return { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description,
           isFallbackAdapter: !!(a.isFallbackAdapter || i.isFallbackAdapter),
           features: [...a.features].sort(),
           maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize,
           maxBufferSize: a.limits.maxBufferSize };
})()"""

RESULT_JS = """(() => {
  const t = (id) => { const e = document.getElementById(id); return e ? e.textContent : null; };
  const out = document.getElementById('output');
  return { title: document.title, ids: (t('ids') || '').trim(), output: t('output'),
           tokPerSec: out ? Number(out.dataset.tokPerSec || 'NaN') : null,
           lastHalfTokPerSec: out ? Number(out.dataset.lastHalfTokPerSec || 'NaN') : null, stats: t('stats'),
           tokenMs: out ? (out.dataset.tokenMs || '') : null,
           adapter: t('adapter'), progress: t('progress-text'), error: t('error') };
})()"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["adapter", "autorun"])
    ap.add_argument("url")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    ap.add_argument("--flag", action="append", default=[], help="extra Chromium flag (repeatable)")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--screenshot")
    ap.add_argument("--browser-log", help="append Chromium's stdout/stderr here")
    ap.add_argument("--lib-path", help="LD_LIBRARY_PATH for Chromium alone")
    a = ap.parse_args()
    # `timeout` sends SIGTERM: unwind, so that the browser is closed too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))
    try:
        return run(a)
    except Exception as e:  # always one JSON line, for the scripts that read it
        print(json.dumps({"title": f"error: {type(e).__name__}: {e}", "error": str(e)}))
        return 1


def run(a):
    b = Browser(a.chromium, a.flag, a.browser_log, a.lib_path)
    try:
        if a.mode == "adapter":
            b.goto(a.url)
            print(json.dumps(b.evaluate(ADAPTER_JS, timeout=min(a.timeout, 60))))
            return 0
        t0 = time.time()
        b.goto(a.url)
        title = ""
        while time.time() - t0 < a.timeout:
            title = b.evaluate("document.title") or ""
            if title == "done" or title.startswith("error:"):
                break
            time.sleep(0.5)
        res = b.evaluate(RESULT_JS)
        res["seconds"] = round(time.time() - t0, 2)
        if title != "done" and not title.startswith("error:"):
            res["title"] = f"timeout after {a.timeout:.0f} s ({title})"
        if a.screenshot:
            b.screenshot(a.screenshot)
        print(json.dumps(res, ensure_ascii=False))
        return 0 if res["title"] == "done" else 1
    finally:
        b.close()


if __name__ == "__main__":
    sys.exit(main())
