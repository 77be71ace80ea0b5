#!/usr/bin/python3
"""Round-trips scripts/gguf_writer.py through an independent GGUF parser
(node-llama-cpp's readGgufFileInfo): metadata of every scalar type and of
string/number/bool arrays, tensors of every supported type with odd sizes
(so padding matters), at the default alignment and at general.alignment 64.
The tensor bytes are then read at the offsets that parser reports and must
decode to what was written. Exit 0 when everything matches."""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(root, "scripts"))
import gguf_writer as gw  # noqa: E402

DUMP_JS = r"""
const {readGgufFileInfo} = await import(process.argv[1] + "/deps/node_modules/node-llama-cpp/dist/index.js");
const info = await readGgufFileInfo(process.argv[2], {readTensorInfo: true, logWarnings: false});
const flat = {};
(function walk(o, p) {
  for (const [k, v] of Object.entries(o)) {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) walk(v, p + k + "."); else flat[p + k] = v;
  }
})(info.metadata, "");
const out = {version: info.version, metadata: flat,
  tensors: info.tensorInfo.map(t => ({name: t.name, dims: t.dimensions, type: t.ggmlType, at: t.fileOffset}))};
console.log(JSON.stringify(out, (k, v) => typeof v === "bigint" ? v.toString() : v));
"""

SCALARS = [
    ("t.u8", 200, gw.UINT8), ("t.i8", -100, gw.INT8), ("t.u16", 60000, gw.UINT16),
    ("t.i16", -30000, gw.INT16), ("t.u32", 4000000000, gw.UINT32), ("t.i32", -2000000000, gw.INT32),
    ("t.f32", 0.15625, gw.FLOAT32), ("t.bool", True, gw.BOOL), ("t.str", "héllo ▁wörld", gw.STRING),
    ("t.u64", 2**53 + 12345, gw.UINT64), ("t.i64", -(2**40) - 7, gw.INT64), ("t.f64", 1.0 / 3, gw.FLOAT64),
]
ARRAYS = [
    ("t.arr_str", ["<s>", "", "▁the", "<0x0A>", "日本"], gw.STRING),
    ("t.arr_i32", [0, -1, 2**31 - 1, -(2**31)], gw.INT32),
    ("t.arr_f32", [0.5, -1e-9, 3.0e9], gw.FLOAT32),
    ("t.arr_u8", [0, 255, 7], gw.UINT8),
    ("t.arr_bool", [True, False, True], gw.BOOL),
]


def build(path, alignment, rng):
    w = gw.GGUFWriter(path, alignment=alignment)
    w.add_string("general.architecture", "llama")
    for k, v, t in SCALARS:
        w.add(k, v, t)
    for k, v, t in ARRAYS:
        w.add_array(k, v, t)
    tensors = {
        "a.f32_3d": (rng.standard_normal((2, 3, 5)), gw.GGML_F32),
        "b.f16": (rng.standard_normal((5, 7)), gw.GGML_F16),
        "c.q8_0": (rng.standard_normal((3, 64)), gw.GGML_Q8_0),
        "d.q4_0": (rng.standard_normal((5, 96)), gw.GGML_Q4_0),
        "e.f32_1d": (rng.standard_normal(7), gw.GGML_F32),
    }
    for name, (x, t) in tensors.items():
        w.add_tensor(name, x.astype(np.float32), t)
    # Streamed in uneven chunks: must give the same bytes as one piece.
    big = rng.standard_normal((9, 64)).astype(np.float32)
    w.add_tensor_stream("f.q4_0_stream", big.shape, gw.GGML_Q4_0, lambda: [big[:2], big[2:7], gw.encode(big[7:], gw.GGML_Q4_0)])
    tensors["f.q4_0_stream"] = (big, gw.GGML_Q4_0)
    w.write()
    return tensors


def same(v, got, t):
    if got is None:
        return False
    if isinstance(v, list):
        if t == gw.FLOAT32:
            return np.array_equal(np.float32(got), np.float32(v))
        return [bool(x) for x in got] == v if t == gw.BOOL else list(got) == v
    if t in (gw.UINT64, gw.INT64):
        return int(got) == v  # JSON carries them as strings (BigInt)
    if t == gw.FLOAT32:
        return np.float32(got) == np.float32(v)
    return got == v


def check(path, alignment, tensors):
    bad = []
    out = subprocess.run(["node", "--input-type=module", "-e", DUMP_JS, root, path],
                         capture_output=True, text=True)
    if out.returncode:
        return [f"readGgufFileInfo failed: {out.stderr.strip()[-400:]}"]
    info = json.loads(out.stdout)
    md = info["metadata"]
    if info["version"] != 3:
        bad.append(f"version {info['version']}")
    for k, v, t in SCALARS + ARRAYS:
        got = md.get(k)
        if not same(v, got, t):
            bad.append(f"{k}: wrote {v!r}, parser read {got!r}")
    buf = open(path, "rb").read()
    seen = {t["name"]: t for t in info["tensors"]}
    for name, (x, gt) in tensors.items():
        t = seen.get(name)
        if t is None:
            bad.append(f"{name}: missing")
            continue
        dims = [int(d) for d in t["dims"]]
        at = int(t["at"])
        if dims != list(x.shape[::-1]) or t["type"] != gt:
            bad.append(f"{name}: dims {dims} type {t['type']}, expected {list(x.shape[::-1])} {gt}")
            continue
        if at % alignment:
            bad.append(f"{name}: data at {at} is not {alignment}-aligned")
        nb = gw.tensor_nbytes(gt, x.size, x.shape[-1])
        got = gw.dequantize(buf[at:at + nb], gt, x.shape)
        want = gw.dequantize(gw.encode(x, gt), gt, x.shape)
        if not np.array_equal(got, want):
            bad.append(f"{name}: data at the parser's offset does not decode to the tensor")
    return bad


def main():
    rng = np.random.default_rng(3)
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for alignment in (32, 64):
            path = os.path.join(d, f"a{alignment}.gguf")
            bad = check(path, alignment, build(path, alignment, rng))
            for b in bad:
                print(f"alignment {alignment}: {b}")
            print(f"alignment {alignment}: {'ok' if not bad else 'FAIL'}")
            failures += len(bad)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
