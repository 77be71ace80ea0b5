#!/usr/bin/python3
"""Checks `wgpt inspect`'s per-tensor bits per weight and its quantization
mix against numbers computed here, independently of wgpt, from a GGUF's
tensor table as llama.cpp's gguf-py reads it.

  check_inspect_mix.py INSPECT_OUT GGUF [--quantize-log LOG]
  check_inspect_mix.py INSPECT_OUT --folder DIR

GGUF: the file inspected. Checked: every tensor's type, bytes and bpw
(8 * bytes / elements, 2 decimals); per type the tensor count, elements,
bytes and bpw; the totals and the file's bpw; general.file_type's name as
llama.cpp's llama_ftype_name gives it (read from llama.cpp's own source,
not from wgpt's table). --quantize-log: llama.cpp's quantizer log of the
file, whose "quant size = X MiB (B BPW)" must be the file's bpw.
--folder: a Hugging Face folder with no tensor computed at load time (a
plain Llama): the expected numbers are the sums over its safetensors
headers (dtype, shape, data_offsets) of every *.safetensors file; tensor
names differ from the GGUF ones, so rows are compared as a multiset of
(type, bytes, bpw); the file type must be "(no general.file_type)".
Exit 0 when all agree; prints each disagreement."""

import argparse
import glob
import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import llamacpp_src  # noqa: E402


def llamacpp_ftype_names():
    """{llama_ftype value: name}, from llama.h's enum and llama-model-loader.cpp's switch."""
    src = llamacpp_src.ensure()
    enum = dict((m[0], int(m[1])) for m in re.findall(r"LLAMA_FTYPE_(\w+)\s*=\s*(\d+)\s*,",
                                                       open(os.path.join(src, "include/llama.h")).read()))
    loader = open(os.path.join(src, "src/llama-model-loader.cpp")).read()
    return {enum[k]: v for k, v in re.findall(r'case LLAMA_FTYPE_(\w+):\s*name = LLAMA_FTYPE_PREFIX "([^"]*)"', loader)}


def parse_inspect(text):
    lines = text.splitlines()
    i = lines.index("tensors:")
    assert lines[i + 1].split()[:5] == ["name", "shape", "type", "bytes", "bpw"], lines[i + 1]
    tensors = {}
    i += 2
    while not lines[i].startswith("total:"):
        f = lines[i].split()
        tensors[f[0]] = (f[2], int(f[3]), f[4])
        i += 1
    total = re.match(r"total: (\d+) tensors, (\d+) elements, (\d+) bytes", lines[i])
    j = lines.index("quantization mix:")
    assert lines[j + 1].split() == ["type", "tensors", "elements", "bytes", "bpw", "bytes%"], lines[j + 1]
    mix = {}
    for ln in lines[j + 2:]:
        if not ln.startswith("  "):
            break
        f = ln.split()
        mix[f[0]] = (int(f[1]), int(f[2]), int(f[3]), f[4])
    ftype = next(ln for ln in lines if ln.startswith("file type:"))[len("file type:"):].strip()
    size = next(ln for ln in lines if ln.startswith("model size:"))
    return tensors, tuple(int(x) for x in total.groups()), mix, ftype, re.search(r"\(([\d.]+) BPW\)", size).group(1)


def gguf_tensors(path):
    """[(name, type, bytes, elements)] and general.file_type (or None), by gguf-py."""
    gguf = llamacpp_src.import_gguf()
    r = gguf.GGUFReader(path)
    ft = r.get_field("general.file_type")
    return ([(t.name, t.tensor_type.name.lower(), int(t.n_bytes), int(t.n_elements)) for t in r.tensors],
            None if ft is None else int(ft.contents()))


def folder_tensors(folder):
    """[(name, type, bytes, elements)] from the safetensors headers of folder."""
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        for name, t in header.items():
            if name == "__metadata__":
                continue
            ne = 1
            for d in t["shape"]:
                ne *= d
            out.append((name, t["dtype"].lower(), t["data_offsets"][1] - t["data_offsets"][0], ne))
    return out


def bpw(nbytes, n):
    return f"{8 * nbytes / n:.2f}" if n else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inspect_out")
    ap.add_argument("gguf", nargs="?")
    ap.add_argument("--folder")
    ap.add_argument("--quantize-log")
    a = ap.parse_args()
    if bool(a.gguf) == bool(a.folder):
        ap.error("give GGUF or --folder DIR")
    if a.gguf:
        table, ft = gguf_tensors(a.gguf)
    else:
        table, ft = folder_tensors(a.folder), None
    got_t, got_total, got_mix, got_ftype, got_bpw = parse_inspect(open(a.inspect_out).read())
    bad = []

    want_t, want_mix = {}, {}
    for name, ty, nb, ne in table:
        want_t[name] = (ty, nb, bpw(nb, ne))
        c = want_mix.setdefault(ty, [0, 0, 0])
        c[0] += 1
        c[1] += ne
        c[2] += nb
    want_mix = {k: (c[0], c[1], c[2], bpw(c[2], c[1])) for k, c in want_mix.items()}
    n_all = sum(c[0] for c in want_mix.values())
    e_all = sum(c[1] for c in want_mix.values())
    b_all = sum(c[2] for c in want_mix.values())
    want_mix["all"] = (n_all, e_all, b_all, bpw(b_all, e_all))

    # ggml's type names are lower case but for the K-quants' "_K"; gguf-py's all upper.
    got_t = {k: (v[0].lower(),) + v[1:] for k, v in got_t.items()}
    got_mix = {k.lower(): v for k, v in got_mix.items()}
    if a.folder:  # HF names, not GGUF ones: compare the rows without them
        got_t = {str(k): v for k, v in enumerate(sorted(got_t.values()))}
        want_t = {str(k): v for k, v in enumerate(sorted(want_t.values()))}
    if set(got_t) != set(want_t):
        bad.append(f"tensor names differ: only in inspect {sorted(set(got_t) - set(want_t))[:5]}, "
                   f"only in the file {sorted(set(want_t) - set(got_t))[:5]}")
    for name in sorted(set(got_t) & set(want_t)):
        if got_t[name] != want_t[name]:
            bad.append(f"{name}: inspect says (type, bytes, bpw) {got_t[name]}, the file {want_t[name]}")
    if got_total != (n_all, e_all, b_all):
        bad.append(f"total line {got_total} != {(n_all, e_all, b_all)}")
    if got_mix != want_mix:
        bad.append(f"mix {got_mix} != {want_mix}")
    if got_bpw != want_mix["all"][3]:
        bad.append(f"model size BPW {got_bpw} != {want_mix['all'][3]}")

    if ft is None:
        want_ftype = "(no general.file_type)"
    else:
        want_ftype = f"{llamacpp_ftype_names().get(ft, 'unknown')} (general.file_type = {ft})"
    if got_ftype != want_ftype:
        bad.append(f"file type '{got_ftype}' != '{want_ftype}'")

    if a.quantize_log:
        m = re.search(r"quant size\s*=\s*[\d.]+ MiB \(([\d.]+) BPW\)", open(a.quantize_log).read())
        if not m:
            bad.append(f"{a.quantize_log}: no 'quant size' line")
        elif m.group(1) != got_bpw:
            bad.append(f"llama.cpp's quantizer says {m.group(1)} BPW, inspect {got_bpw}")

    for b in bad:
        print("  " + b)
    mix = ", ".join(f"{k} {v[0]}x {v[3]}" for k, v in want_mix.items() if k != "all")
    print(f"{'ok' if not bad else 'FAIL'}: {len(want_t)} tensors ({mix}), {want_mix['all'][3]} BPW, file type {got_ftype}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
