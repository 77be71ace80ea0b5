"""A small GGUF v3 writer (numpy only), written from the GGUF specification.

Layout: magic "GGUF", u32 version 3, u64 tensor count, u64 metadata count,
the metadata key/values, the tensor infos (name, dims, type, offset), padding
to the alignment, then each tensor's data padded to the alignment. Offsets are
relative to the start of the data section.

Shapes: GGUF lists ne[0] first and ne[0] is the contiguous dimension, so a
numpy array of shape (rows, cols) is described as ne = [cols, rows]. The
writer takes numpy shapes and reverses them.

Tensors can be given whole (add_tensor) or produced on demand while writing
(add_tensor_stream), so a multi-gigabyte file never has to be held in memory.
"""

import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
DEFAULT_ALIGNMENT = 32

# Metadata value types (gguf_type).
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)

_SCALAR_FMT = {
    UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i",
    FLOAT32: "<f", BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d",
}
_NUMPY_OF = {
    UINT8: "<u1", INT8: "<i1", UINT16: "<u2", INT16: "<i2", UINT32: "<u4", INT32: "<i4",
    FLOAT32: "<f4", BOOL: "<u1", UINT64: "<u8", INT64: "<i8", FLOAT64: "<f8",
}

# ggml tensor types this writer can encode.
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0, GGML_BF16 = 0, 1, 2, 8, 30
QK = 32  # elements per block for Q4_0 and Q8_0
_TYPE_NAMES = {"f32": GGML_F32, "f16": GGML_F16, "q4_0": GGML_Q4_0, "q8_0": GGML_Q8_0, "bf16": GGML_BF16}
# general.file_type (llama_ftype) for a file whose matrices are all of one type.
FILE_TYPE = {GGML_F32: 0, GGML_F16: 1, GGML_Q4_0: 2, GGML_Q8_0: 7, GGML_BF16: 32}


def ggml_type(name_or_id):
    if isinstance(name_or_id, str):
        return _TYPE_NAMES[name_or_id.lower()]
    return int(name_or_id)


def tensor_nbytes(gtype, n_elements, row_len):
    if gtype == GGML_F32:
        return 4 * n_elements
    if gtype in (GGML_F16, GGML_BF16):
        return 2 * n_elements
    if row_len % QK:
        raise ValueError(f"row length {row_len} is not a multiple of {QK}")
    block = {GGML_Q4_0: 2 + QK // 2, GGML_Q8_0: 2 + QK}[gtype]
    return n_elements // QK * block


def _blocks(x):
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.shape[-1] % QK:
        raise ValueError(f"row length {x.shape[-1]} is not a multiple of {QK}")
    return x.reshape(-1, QK)


def _round_away(v):
    # C roundf (half away from zero). The f32 values are exact in f64, where
    # |v| + 0.5 is also exact, so floor gives roundf's answer without the
    # double rounding a float32 add could cause.
    v = v.astype(np.float64)
    return np.copysign(np.floor(np.abs(v) + 0.5), v)


def quantize_q8_0(x):
    """ggml's quantize_row_q8_0_ref: d = amax/127, q = roundf(x * (1/d)), d as f16."""
    b = _blocks(x)
    amax = np.max(np.abs(b), axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
    q = _round_away(b * inv[:, None]).astype(np.int8)
    out = np.empty((b.shape[0], 2 + QK), dtype=np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def quantize_q4_0(x):
    """ggml's quantize_row_q4_0_ref: max is the signed value with the largest
    |x| (first one on ties), d = max / -8, q = min(15, (int8)(x/d + 8.5));
    byte j holds element j in its low nibble and element j+16 in its high."""
    b = _blocks(x)
    idx = np.argmax(np.abs(b), axis=1)
    mx = b[np.arange(b.shape[0]), idx]
    d = (mx / np.float32(-8)).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
    v = (b * inv[:, None]).astype(np.float32) + np.float32(8.5)
    q = np.minimum(np.trunc(v), 15).astype(np.uint8)
    out = np.empty((b.shape[0], 2 + QK // 2), dtype=np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, : QK // 2] | (q[:, QK // 2 :] << 4)
    return out.tobytes()


def dequantize(raw, gtype, shape):
    """Inverse of encode (for tests and for building float references)."""
    n = int(np.prod(shape))
    if gtype == GGML_F32:
        return np.frombuffer(raw, "<f4", n).reshape(shape).copy()
    if gtype == GGML_F16:
        return np.frombuffer(raw, "<f2", n).astype(np.float32).reshape(shape)
    if gtype == GGML_BF16:
        return (np.frombuffer(raw, "<u2", n).astype(np.uint32) << 16).view(np.float32).reshape(shape)
    if gtype == GGML_Q8_0:
        blk = np.frombuffer(raw, np.uint8).reshape(-1, 2 + QK)
        d = blk[:, :2].copy().view("<f2").astype(np.float32)
        q = blk[:, 2:].view(np.int8).astype(np.float32)
        return (q * d).reshape(shape)
    if gtype == GGML_Q4_0:
        blk = np.frombuffer(raw, np.uint8).reshape(-1, 2 + QK // 2)
        d = blk[:, :2].copy().view("<f2").astype(np.float32)
        qs = blk[:, 2:]
        q = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.float32) - 8
        return (q * d).reshape(shape)
    raise ValueError(f"unsupported ggml type {gtype}")


def encode_bf16(x):
    """ggml's GGML_FP32_TO_BF16: the top 16 bits of the f32, rounded to nearest
    even (a NaN stays a quiet NaN)."""
    u = np.ascontiguousarray(x, dtype="<f4").view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    r[nan] = ((u[nan] >> 16) | 64).astype("<u2")
    return r.tobytes()


def encode(x, gtype):
    """Converts a float array to the bytes of a ggml tensor of type gtype."""
    if gtype == GGML_F32:
        return np.ascontiguousarray(x, dtype="<f4").tobytes()
    if gtype == GGML_F16:
        return np.ascontiguousarray(x, dtype="<f2").tobytes()
    if gtype == GGML_BF16:
        return encode_bf16(x)
    if gtype == GGML_Q8_0:
        return quantize_q8_0(x)
    if gtype == GGML_Q4_0:
        return quantize_q4_0(x)
    raise ValueError(f"unsupported ggml type {gtype}")


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _infer_type(v):
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, int):
        return INT32 if -(2**31) <= v < 2**31 else INT64
    if isinstance(v, float):
        return FLOAT32
    if isinstance(v, str):
        return STRING
    raise TypeError(f"cannot infer a GGUF type for {type(v).__name__}; pass vtype")


class GGUFWriter:
    def __init__(self, path, alignment=DEFAULT_ALIGNMENT):
        self.path = path
        self.alignment = alignment
        self.kv = []  # (key, bytes of type + value)
        self.tensors = []  # dicts: name, shape, gtype, nbytes, produce
        if alignment != DEFAULT_ALIGNMENT:
            self.add_u32("general.alignment", alignment)

    # --- metadata -------------------------------------------------------
    def add(self, key, value, vtype=None):
        vtype = _infer_type(value) if vtype is None else vtype
        if vtype == STRING:
            payload = _str(value)
        elif vtype == ARRAY:
            raise TypeError("use add_array for arrays")
        else:
            payload = struct.pack(_SCALAR_FMT[vtype], value)
        self._put(key, struct.pack("<I", vtype) + payload)

    def add_u32(self, key, v):
        self.add(key, int(v), UINT32)

    def add_i32(self, key, v):
        self.add(key, int(v), INT32)

    def add_f32(self, key, v):
        self.add(key, float(v), FLOAT32)

    def add_bool(self, key, v):
        self.add(key, bool(v), BOOL)

    def add_string(self, key, v):
        self.add(key, str(v), STRING)

    def add_array(self, key, values, elem_type):
        head = struct.pack("<IIQ", ARRAY, elem_type, len(values))
        if elem_type == STRING:
            body = b"".join(_str(s) for s in values)
        elif elem_type == ARRAY:
            raise TypeError("nested arrays are not supported")
        else:
            body = np.asarray(values).astype(_NUMPY_OF[elem_type]).tobytes()
        self._put(key, head + body)

    def _put(self, key, blob):
        if any(k == key for k, _ in self.kv):
            raise ValueError(f"duplicate metadata key {key}")
        self.kv.append((key, blob))

    # --- tensors --------------------------------------------------------
    def add_tensor(self, name, array, gtype):
        """Adds a tensor held in memory; array is float, shape in numpy order."""
        array = np.asarray(array)
        self.add_tensor_stream(name, array.shape, gtype, lambda: [array])

    def add_tensor_stream(self, name, shape, gtype, produce):
        """produce() is called while writing and returns an iterable of float
        arrays whose concatenation along axis 0 is the tensor (row chunks),
        so huge tensors can be generated and encoded a slice at a time.
        A chunk may also be bytes already encoded with encode() (so callers
        can encode in parallel)."""
        gtype = ggml_type(gtype)
        shape = tuple(int(s) for s in shape)
        if any(t["name"] == name for t in self.tensors):
            raise ValueError(f"duplicate tensor {name}")
        n = int(np.prod(shape))
        self.tensors.append(dict(name=name, shape=shape, gtype=gtype,
                                 nbytes=tensor_nbytes(gtype, n, shape[-1]), produce=produce))

    # --- output ---------------------------------------------------------
    def _pad(self, n):
        return (-n) % self.alignment

    def write(self, progress=None):
        head = [GGUF_MAGIC, struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.kv))]
        for key, blob in self.kv:
            head += [_str(key), blob]
        offset = 0
        for t in self.tensors:
            ne = t["shape"][::-1]
            head += [_str(t["name"]), struct.pack("<I", len(ne)),
                     struct.pack(f"<{len(ne)}Q", *ne), struct.pack("<IQ", t["gtype"], offset)]
            t["offset"] = offset
            offset += t["nbytes"] + self._pad(t["nbytes"])
        header = b"".join(head)
        with open(self.path, "wb") as f:
            f.write(header)
            f.write(b"\0" * self._pad(len(header)))
            for t in self.tensors:
                written = 0
                for chunk in t["produce"]():
                    raw = chunk if isinstance(chunk, (bytes, bytearray)) else encode(chunk, t["gtype"])
                    f.write(raw)
                    written += len(raw)
                if written != t["nbytes"]:
                    raise ValueError(f"{t['name']}: produced {written} bytes, expected {t['nbytes']}")
                f.write(b"\0" * self._pad(written))
                if progress:
                    progress(t["name"])


def read_gguf(path, dequant=True):
    """(metadata dict, {name: array}) for a GGUF v3 file. With dequant the
    tensors are float32 numpy arrays in numpy shape order (rows, cols);
    otherwise (gtype, shape, raw bytes)."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:4] != GGUF_MAGIC:
        raise ValueError(f"{path}: not a GGUF file")
    version, n_t, n_kv = struct.unpack_from("<IQQ", buf, 4)
    if version != 3:
        raise ValueError(f"{path}: GGUF version {version}, expected 3")
    off = 24

    def rstr(o):
        (n,) = struct.unpack_from("<Q", buf, o)
        return buf[o + 8:o + 8 + n].decode("utf-8"), o + 8 + n

    def rval(t, o):
        if t == STRING:
            return rstr(o)
        if t == ARRAY:
            et, cnt = struct.unpack_from("<IQ", buf, o)
            o += 12
            if et in _NUMPY_OF:
                dt = np.dtype(_NUMPY_OF[et])
                arr = np.frombuffer(buf, dt, cnt, o)
                return arr.tolist(), o + cnt * dt.itemsize
            vals = []
            for _ in range(cnt):
                v, o = rval(et, o)
                vals.append(v)
            return vals, o
        fmt = _SCALAR_FMT[t]
        return struct.unpack_from(fmt, buf, o)[0], o + struct.calcsize(fmt)

    meta = {}
    for _ in range(n_kv):
        k, off = rstr(off)
        (t,) = struct.unpack_from("<I", buf, off)
        meta[k], off = rval(t, off + 4)
    infos = []
    for _ in range(n_t):
        name, off = rstr(off)
        (nd,) = struct.unpack_from("<I", buf, off)
        ne = struct.unpack_from(f"<{nd}Q", buf, off + 4)
        gt, toff = struct.unpack_from("<IQ", buf, off + 4 + 8 * nd)
        off += 4 + 8 * nd + 12
        infos.append((name, tuple(ne[::-1]), gt, toff))
    align = meta.get("general.alignment", DEFAULT_ALIGNMENT)
    base = off + (-off) % align
    tensors = {}
    for name, shape, gt, toff in infos:
        nb = tensor_nbytes(gt, int(np.prod(shape)), shape[-1])
        raw = buf[base + toff: base + toff + nb]
        if len(raw) != nb:
            raise ValueError(f"{path}: tensor {name} runs past the end of the file")
        tensors[name] = dequantize(raw, gt, shape) if dequant else (gt, shape, raw)
    return meta, tensors
