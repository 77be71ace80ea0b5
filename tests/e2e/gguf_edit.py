"""Edits a GGUF file at the byte level for tests of hostile input: keeps
every metadata value's raw bytes and type, so one thing can change at a
time (a key, a tensor name, the vocabulary, a tensor's data). Standard
library only.

    gguf_edit.py IN OUT [--rename-key OLD NEW] [--rename-tensor OLD NEW] [--copy-tensor OLD NEW]
                        [--set-str KEY VALUE] [--token ID TEXT] [--nan TENSOR]
                        [--set-dims TENSOR D0,D1,...]
    TEXT and NEW take escapes (\\x1b, \\u202e, \\n) or @FILE; each option may repeat.
"""
import argparse
import struct

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
FMT = {U8: '<B', I8: '<b', U16: '<H', I16: '<h', U32: '<I', I32: '<i', F32: '<f', BOOL: '<B',
       U64: '<Q', I64: '<q', F64: '<d'}
# bytes per block, elements per block of the tensor types the tests use
BLOCK = {0: (4, 1), 1: (2, 1), 8: (34, 32), 2: (18, 32), 12: (144, 256), 13: (176, 256), 14: (210, 256)}


def s(x):
    return struct.pack('<Q', len(x)) + x


class Gguf:
    def __init__(self, path):
        b = open(path, 'rb').read()
        assert b[:4] == b'GGUF', 'not a GGUF file'
        self.version, nt, nk = struct.unpack_from('<IQQ', b, 4)
        o = 24

        def rstr(o):
            n, = struct.unpack_from('<Q', b, o)
            return b[o + 8:o + 8 + n], o + 8 + n

        def skip(t, o):
            if t in FMT:
                return o + struct.calcsize(FMT[t])
            if t == STR:
                return rstr(o)[1]
            et, n = struct.unpack_from('<IQ', b, o)
            o += 12
            for _ in range(n):
                o = skip(et, o)
            return o
        self.kv = []
        for _ in range(nk):
            k, o = rstr(o)
            t, = struct.unpack_from('<I', b, o)
            o2 = skip(t, o + 4)
            self.kv.append([k, t, b[o + 4:o2]])
            o = o2
        infos = []
        for _ in range(nt):
            name, o = rstr(o)
            nd, = struct.unpack_from('<I', b, o)
            dims = list(struct.unpack_from('<%dQ' % nd, b, o + 4))
            ty, off = struct.unpack_from('<IQ', b, o + 4 + 8 * nd)
            o += 4 + 8 * nd + 12
            infos.append((name, dims, ty, off))
        self.align = 32
        for k, t, v in self.kv:
            if k == b'general.alignment':
                self.align = struct.unpack(FMT[t], v)[0]
        base = o + (-o) % self.align
        self.tensors = []
        for name, dims, ty, off in infos:
            n = 1
            for d in dims:
                n *= d
            bb, be = BLOCK[ty]
            self.tensors.append([name, dims, ty, b[base + off:base + off + n // be * bb]])

    def save(self, path):
        al = self.align
        out = bytearray(b'GGUF') + struct.pack('<IQQ', self.version, len(self.tensors), len(self.kv))
        for k, t, v in self.kv:
            out += s(k) + struct.pack('<I', t) + v
        cur = 0
        for name, dims, ty, data in self.tensors:
            out += s(name) + struct.pack('<I', len(dims)) + b''.join(struct.pack('<Q', d) for d in dims)
            out += struct.pack('<IQ', ty, cur)
            cur += len(data) + (-len(data)) % al
        out += b'\0' * (-len(out) % al)
        for name, dims, ty, data in self.tensors:
            out += data + b'\0' * (-len(data) % al)
        open(path, 'wb').write(bytes(out))

    def entry(self, key):
        return next(e for e in self.kv if e[0] == key)

    def tokens(self):
        raw = self.entry(b'tokenizer.ggml.tokens')[2]
        n, = struct.unpack_from('<Q', raw, 4)
        o, toks = 12, []
        for _ in range(n):
            ln, = struct.unpack_from('<Q', raw, o)
            toks.append(raw[o + 8:o + 8 + ln])
            o += 8 + ln
        return toks

    def set_tokens(self, toks):
        self.entry(b'tokenizer.ggml.tokens')[2] = struct.pack('<IQ', STR, len(toks)) + b''.join(s(t) for t in toks)


def unescape(x):
    """\\xNN is that byte, \\uNNNN that code point as UTF-8, \\n \\t \\\\ as usual."""
    if x.startswith('@'):   # @FILE: the file's bytes (values too long for a command line)
        return open(x[1:], 'rb').read()
    out, i = bytearray(), 0
    while i < len(x):
        c = x[i]
        if c == '\\' and i + 1 < len(x):
            e = x[i + 1]
            if e == 'x':
                out.append(int(x[i + 2:i + 4], 16)); i += 4; continue
            if e == 'u':
                out += chr(int(x[i + 2:i + 6], 16)).encode(); i += 6; continue
            out += {'n': b'\n', 't': b'\t', '\\': b'\\'}.get(e, e.encode()); i += 2; continue
        out += c.encode(); i += 1
    return bytes(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('inp')
    ap.add_argument('out')
    ap.add_argument('--rename-key', nargs=2, action='append', default=[])
    ap.add_argument('--rename-tensor', nargs=2, action='append', default=[])
    ap.add_argument('--copy-tensor', nargs=2, action='append', default=[])
    ap.add_argument('--set-str', nargs=2, action='append', default=[])
    ap.add_argument('--token', nargs=2, action='append', default=[])
    ap.add_argument('--nan', action='append', default=[])
    # New dims for a tensor, its data kept: keep the element count, or the
    # data no longer fits the shape.
    ap.add_argument('--set-dims', nargs=2, action='append', default=[])
    a = ap.parse_args()
    g = Gguf(a.inp)
    for old, new in a.rename_key:
        g.entry(old.encode())[0] = unescape(new)
    for old, new in a.rename_tensor:
        next(t for t in g.tensors if t[0] == old.encode())[0] = unescape(new)
    for old, new in a.copy_tensor:   # an extra tensor: the same data under another name
        t = next(t for t in g.tensors if t[0] == old.encode())
        g.tensors.append([unescape(new), list(t[1]), t[2], t[3]])
    for key, val in a.set_str:
        g.entry(key.encode())[1:] = [STR, s(unescape(val))]
    if a.token:
        toks = g.tokens()
        for i, text in a.token:
            toks[int(i)] = unescape(text)
        g.set_tokens(toks)
    for name in a.nan:
        t = next(t for t in g.tensors if t[0] == name.encode())
        assert t[2] == 0, '--nan needs an f32 tensor'
        t[3] = struct.pack('<f', float('nan')) * (len(t[3]) // 4)
    for name, dims in a.set_dims:
        next(t for t in g.tensors if t[0] == name.encode())[1] = [int(d) for d in dims.split(',')]
    g.save(a.out)


if __name__ == '__main__':
    main()
