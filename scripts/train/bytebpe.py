"""A small pure-Python byte-level BPE (GPT-2 style) trainer and encoder that
writes the same tokenizer.json structure as Hugging Face `tokenizers`.

Only for testing train.py's data preparation and exports on a machine
without `tokenizers` (train.py --numpy-selftest and --dry-run there): the
real tokenizer is trained by `tokenizers` on the GPU machine. The
pre-tokenizer regex is GPT-2's with \\p{L}/\\p{N} approximated by Python's
Unicode classes, exact for ASCII text such as the KJV corpus.
"""

import re

GPT2_RE = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's byte -> printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = bytes_to_unicode()
U2B = {u: b for b, u in B2U.items()}


def pretokenize(text):
    return ["".join(B2U[b] for b in piece.encode("utf-8")) for piece in GPT2_RE.findall(text)]


def train(texts, vocab_size, specials):
    """(vocab {token: id}, merges [(a, b)]): specials first, then the 256
    byte characters in code point order, then merges by falling pair count
    (ties: the larger pair), until vocab_size tokens or no pair occurs
    twice."""
    words = {}
    for t in texts:
        for w in pretokenize(t):
            words[w] = words.get(w, 0) + 1
    vocab = {}
    for s in specials:
        vocab[s] = len(vocab)
    for c in sorted(B2U.values()):
        vocab[c] = len(vocab)
    segs = {w: list(w) for w in words}
    merges = []
    while len(vocab) < vocab_size:
        pairs = {}
        for w, n in words.items():
            s = segs[w]
            for p in zip(s, s[1:]):
                pairs[p] = pairs.get(p, 0) + n
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        (a, b), cnt = best
        if cnt < 2:
            break
        merges.append((a, b))
        vocab.setdefault(a + b, len(vocab))
        for w, s in segs.items():
            if len(s) < 2:
                continue
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            segs[w] = out
    return vocab, merges


class Encoder:
    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.cache = {}

    def _bpe(self, w):
        if w in self.cache:
            return self.cache[w]
        s = list(w)
        while len(s) > 1:
            best, bi = None, -1
            for i in range(len(s) - 1):
                r = self.ranks.get((s[i], s[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            s = s[:bi] + [s[bi] + s[bi + 1]] + s[bi + 2:]
        ids = [self.vocab[p] for p in s]
        self.cache[w] = ids
        return ids

    def encode(self, text):
        out = []
        for w in pretokenize(text):
            out += self._bpe(w)
        return out

    def decode(self, ids, skip=()):
        inv = {i: t for t, i in self.vocab.items()}
        data = bytearray()
        for i in ids:
            if i in skip:
                continue
            t = inv[i]
            if all(c in U2B for c in t):
                data += bytes(U2B[c] for c in t)
            else:
                data += t.encode("utf-8")
        return data.decode("utf-8", errors="replace")


def tokenizer_json(vocab, merges, specials, bos):
    """The dict tokenizers' Tokenizer.save writes for a ByteLevel BPE with a
    TemplateProcessing post-processor that prepends `bos`."""
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": vocab[s], "content": s, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True} for s in specials],
        "normalizer": None,
        "pre_tokenizer": bl,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {bos: {"id": bos, "ids": [vocab[bos]], "tokens": [bos]}},
        },
        "decoder": dict(bl, add_prefix_space=True),
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": [list(m) for m in merges]},
    }
