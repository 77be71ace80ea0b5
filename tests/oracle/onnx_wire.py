#!/usr/bin/python3
"""Small ONNX files written field by field in protobuf's wire format (no
onnx package): the fuzzer's seed and the malformed models of
tests/e2e/test_onnx_ort.sh. Field numbers are onnx.proto's.

  onnx_wire.py seed FILE        every kind of field wgpt reads: raw_data,
                                packed and unpacked float_data, int32_data,
                                INT4 data, external data, MatMulNBits and
                                GatherBlockQuantized nodes with attributes
  onnx_wire.py bad-dims FILE    an initializer whose raw_data is not what its dims hold
  onnx_wire.py bad-varint FILE  a varint of 11 bytes inside the graph
  onnx_wire.py escape FILE      external data at '../outside.bin'
  onnx_wire.py q4 IN_DIR OUT_DIR DEQ_DIR [--asym] [--external] [--u8-gather]
      IN_DIR's f32 model.safetensors (scripts/make_tiny_hf.py) quantized as
      onnxruntime's MatMulNBitsQuantizer does (4 bits, blocks of 32 along
      each Linear's input, symmetric or with zero points; the embedding as
      GatherBlockQuantized INT4/UINT4, or UINT8 holding two nibbles a byte
      with --u8-gather) into OUT_DIR/onnx/model_q4.onnx with
      Optimum's names (initializers "onnx::MatMul_N_Q4", nodes
      "/model/layers.0/self_attn/q_proj/MatMul_Q4", norms by parameter
      name). Only the nodes that use weights are written: wgpt reads no
      more, and onnxruntime cannot run it. DEQ_DIR gets the dequantized
      weights as f32 safetensors: the same model for wgpt's folder reader.
"""

import struct
import sys


def varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def vint(field, v):
    return key(field, 0) + varint(v)


def ld(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return key(field, 2) + varint(len(payload)) + payload


def f32(field, v):
    return key(field, 5) + struct.pack("<f", v)


def tensor(name, data_type, dims, raw=None, floats=None, ints=None, packed=True, external=None):
    t = b"".join(vint(1, d) for d in dims) + vint(2, data_type) + ld(8, name)
    if raw is not None:
        t += ld(9, raw)
    if floats is not None:
        if packed:
            t += ld(4, b"".join(struct.pack("<f", x) for x in floats))
        else:
            t += b"".join(f32(4, x) for x in floats)
    if ints is not None:
        t += ld(5, b"".join(varint(x) for x in ints))
    if external is not None:
        for k, v in external.items():
            t += ld(13, ld(1, k) + ld(2, str(v)))
        t += vint(14, 1)
    return t


def attr_int(name, v):
    return ld(1, name) + vint(3, v) + vint(20, 2)


def node(op, name, inputs, outputs, attrs=(), domain=""):
    n = b"".join(ld(1, i) for i in inputs) + b"".join(ld(2, o) for o in outputs) + ld(3, name) + ld(4, op)
    n += b"".join(ld(5, attr_int(k, v)) for k, v in attrs)
    if domain:
        n += ld(7, domain)
    return n


def model(graph):
    opset = ld(8, ld(1, "") + vint(2, 21))
    return vint(1, 10) + ld(2, "onnx_wire.py") + opset + ld(7, graph)


def seed():
    g = ld(2, "seed")
    g += ld(5, tensor("model.norm.weight", 1, [4], raw=struct.pack("<4f", 1, 2, 3, 4)))
    g += ld(5, tensor("packed", 1, [2], floats=[0.5, -1.5]))
    g += ld(5, tensor("unpacked", 1, [2], floats=[0.25, 8], packed=False))
    g += ld(5, tensor("bytes", 2, [3], ints=[1, 2, 255]))
    g += ld(5, tensor("halves", 10, [2], ints=[0x3C00, 0xC000]))
    g += ld(5, tensor("B_Q4", 2, [2, 1, 16], raw=bytes(range(32))))
    g += ld(5, tensor("B_scales", 1, [2], raw=struct.pack("<2f", 0.1, 0.2)))
    g += ld(5, tensor("E_Q4", 22, [2, 32], raw=bytes(range(32))))
    g += ld(5, tensor("E_scales", 1, [2, 1], raw=struct.pack("<2f", 1, 2)))
    g += ld(5, tensor("ext", 1, [2], external={"location": "model.onnx_data", "offset": 0, "length": 8}))
    g += ld(1, node("MatMulNBits", "/model/layers.0/mlp/up_proj/MatMul_Q4", ["x", "B_Q4", "B_scales"], ["y"],
                    [("K", 32), ("N", 2), ("bits", 4), ("block_size", 32)], "com.microsoft"))
    g += ld(1, node("GatherBlockQuantized", "/model/embed_tokens/Gather_Q4", ["E_Q4", "input_ids", "E_scales"],
                    ["e"], [("gather_axis", 0), ("quantize_axis", 1), ("block_size", 32)], "com.microsoft"))
    g += ld(1, node("Mul", "/model/norm/Mul_1", ["h", "model.norm.weight"], ["n"]))
    return model(g)


def read_safetensors(path):
    import json
    import numpy as np
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    out = {}
    for k, v in head.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", f"{k}: {v['dtype']} (make the folder with --dtype f32)"
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(raw[8 + n + a:8 + n + b], "<f4").reshape(v["shape"])
    return out


def write_safetensors(path, tensors):
    import json
    head, off, blobs = {}, 0, []
    for k, a in tensors.items():
        b = a.astype("<f4").tobytes()
        head[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(head).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def pack4(q):
    """uint8 values 0..15, even count: element 2j in the low nibble of byte j."""
    q = q.reshape(-1).astype("uint8")
    return (q[0::2] | (q[1::2] << 4)).astype("uint8")


def quant_rows(w, asym, signed=False):
    """w [rows][k], k % 32 == 0: blocks of 32 along k, as onnxruntime's
    quantize_matmul_4bits (symmetric: scale = the block's value of largest
    magnitude / -8, quants + 8 unless signed; asymmetric: scale = (max - min)
    / 15 over a range holding 0, zero point round(-min / scale)). Returns
    the quants (rows, k), scales (rows, k/32), zero points or None, and the
    dequantized weights."""
    import numpy as np
    rows, k = w.shape
    b = w.reshape(rows, k // 32, 32).astype(np.float32)
    if asym:
        mn = np.minimum(b.min(axis=2, keepdims=True), 0)
        mx = np.maximum(b.max(axis=2, keepdims=True), 0)
        scale = ((mx - mn) / 15).astype(np.float32)
        safe = np.where(scale == 0, 1, scale)
        zp = np.where(scale == 0, 8, np.round(-mn / safe)).clip(0, 15).astype(np.int32)
        q = np.where(scale == 0, 8, np.round(b / safe) + zp).clip(0, 15).astype(np.int32)
        deq = ((q - zp) * scale).astype(np.float32)
        return q.reshape(rows, k), scale.reshape(rows, -1), zp.reshape(rows, -1), deq.reshape(rows, k)
    mx, mn = b.max(axis=2, keepdims=True), b.min(axis=2, keepdims=True)
    amax = np.where(np.abs(mx) > np.abs(mn), mx, mn)
    scale = (amax / -8.0).astype(np.float32)
    safe = np.where(scale == 0, 1, scale)
    q = np.where(scale == 0, 0, np.round(b / safe)).clip(-8, 7).astype(np.int32)
    deq = (q * scale).astype(np.float32)
    if not signed:
        q = q + 8
    return q.reshape(rows, k), scale.reshape(rows, -1), None, deq.reshape(rows, k)


def q4_folder(in_dir, out_dir, deq_dir, asym, external, u8):
    import os
    import shutil
    import numpy as np
    w = read_safetensors(os.path.join(in_dir, "model.safetensors"))
    inits, nodes, deq, ext = [], [], {}, bytearray()
    counter = [100]

    def init(name, dt, dims, data):
        if external:
            inits.append(tensor(name, dt, dims, external={"location": "model_q4.onnx_data", "offset": len(ext),
                                                             "length": len(data)}))
            ext.extend(data)
            ext.extend(bytes(-len(ext) % 16))
        else:
            inits.append(tensor(name, dt, dims, raw=data))

    for name, a in w.items():
        mod = name[: -len(".weight")] if name.endswith(".weight") else None
        path = "/" + (mod or name).replace(".", "/")
        if name == "model.embed_tokens.weight" and u8:
            # UINT8 data, two nibbles a byte, as MatMulNBits keeps them (zero point 8 when absent)
            q, sc, zp, d = quant_rows(a, asym)
            init(name + "_Q4", 2, [a.shape[0], a.shape[1] // 2], pack4(q).tobytes())
            init(name + "_scales", 1, list(sc.shape), sc.astype("<f4").tobytes())
            ins = [name + "_Q4", "input_ids", name + "_scales"]
            if asym:
                kb = sc.shape[1]
                zrows = np.zeros((a.shape[0], (kb + 1) // 2 * 2), np.int32)
                zrows[:, :kb] = zp
                init(name + "_zero_points", 2, [a.shape[0], (kb + 1) // 2], pack4(zrows).tobytes())
                ins.append(name + "_zero_points")
            nodes.append(node("GatherBlockQuantized", path + "/Gather_Q4", ins, ["embeds"],
                              [("gather_axis", 0), ("quantize_axis", 1), ("block_size", 32), ("bits", 4)],
                              "com.microsoft"))
            deq[name] = d
        elif name == "model.embed_tokens.weight":
            q, sc, zp, d = quant_rows(a, asym, signed=not asym)
            dt = 21 if asym else 22  # UINT4, INT4
            init(name + "_Q4", dt, list(a.shape), pack4(q & 15).tobytes())
            init(name + "_scales", 1, list(sc.shape), sc.astype("<f4").tobytes())
            ins = [name + "_Q4", "input_ids", name + "_scales"]
            if asym:
                init(name + "_zero_points", 21, list(zp.shape), pack4(zp).tobytes() if zp.size % 2 == 0 else
                     pack4(np.append(zp.reshape(-1), 0)).tobytes())
                ins.append(name + "_zero_points")
            nodes.append(node("GatherBlockQuantized", path + "/Gather_Q4", ins, ["embeds"],
                              [("gather_axis", 0), ("quantize_axis", 1), ("block_size", 32)], "com.microsoft"))
            deq[name] = d
        elif a.ndim == 2:
            n_out, k = a.shape
            q, sc, zp, d = quant_rows(a, asym)
            bname = f"onnx::MatMul_{counter[0]}"
            counter[0] += 1
            init(bname + "_Q4", 2, [n_out, k // 32, 16], pack4(q).tobytes())
            init(bname + "_scales", 1, [n_out * (k // 32)], sc.astype("<f4").tobytes())
            ins = ["x", bname + "_Q4", bname + "_scales"]
            if asym:
                kb = k // 32
                zrows = np.zeros((n_out, (kb + 1) // 2 * 2), np.int32)
                zrows[:, :kb] = zp
                init(bname + "_zero_points", 2, [n_out * ((kb + 1) // 2)], pack4(zrows).tobytes())
                ins.append(bname + "_zero_points")
            nodes.append(node("MatMulNBits", path + "/MatMul_Q4", ins, [path + "/MatMul_output_0"],
                              [("K", k), ("N", n_out), ("bits", 4), ("block_size", 32)], "com.microsoft"))
            deq[name] = d
        else:
            init(name, 1, list(a.shape), a.astype("<f4").tobytes())
            op = "Add" if name.endswith(".bias") else "Mul"
            nodes.append(node(op, path.rsplit("/", 1)[0] + "/" + op + "_1", ["h", name], ["o"]))
            deq[name] = a
    g = ld(2, "main_graph") + b"".join(ld(5, t) for t in inits) + b"".join(ld(1, n) for n in nodes)
    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    os.makedirs(deq_dir, exist_ok=True)
    with open(os.path.join(out_dir, "onnx", "model_q4.onnx"), "wb") as f:
        f.write(model(g))
    if external:
        with open(os.path.join(out_dir, "onnx", "model_q4.onnx_data"), "wb") as f:
            f.write(ext)
    write_safetensors(os.path.join(deq_dir, "model.safetensors"), deq)
    for f in ["config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"]:
        if os.path.isfile(os.path.join(in_dir, f)):
            shutil.copyfile(os.path.join(in_dir, f), os.path.join(out_dir, f))
            shutil.copyfile(os.path.join(in_dir, f), os.path.join(deq_dir, f))


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "q4":
        flags = sys.argv[5:]
        q4_folder(sys.argv[2], sys.argv[3], sys.argv[4], "--asym" in flags, "--external" in flags, "--u8-gather" in flags)
        return
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    what, out = sys.argv[1], sys.argv[2]
    if what == "seed":
        data = seed()
    elif what == "bad-dims":
        # [64, 64] floats are 16384 bytes; 100 are there
        data = model(ld(2, "g") + ld(5, tensor("model.norm.weight", 1, [64, 64], raw=bytes(100))))
    elif what == "bad-varint":
        g = ld(2, "g") + ld(5, tensor("w", 1, [1], raw=bytes(4)))
        g += key(1, 2) + b"\xff" * 10 + b"\x01"
        data = model(g)
    elif what == "escape":
        data = model(ld(2, "g") + ld(5, tensor("model.norm.weight", 1, [4],
                                               external={"location": "../outside.bin", "offset": 0})))
    else:
        sys.exit(__doc__)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
