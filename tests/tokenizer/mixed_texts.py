"""The tokenizer test texts (tests/e2e/test_tokenizer_llamacpp.sh,
scripts/device_qwen.py): tests/tokenizer/texts.json, and random mixes
(fixed seed) of letters, digits, punctuation, quotes, whitespace of every
kind, accents, CJK, emoji, combining marks and special-token text."""

import json
import os
import random

POOLS = ["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " ", "  \t\n\r", "'\"`",
         ".,;:!?-_()[]{}<>/\\|@#$%^&*+=~", "\u00e9\u00f1\u00fc\u00df\u00e7\u00f8\u00e5\u00c6\u0152",
         "\u65e5\u672c\u8a9e\u4e2d\u6587\ud55c\uad6d\uc5b4",
         "\U0001F600\U0001F44D\U0001F3FD\u2764\ufe0f\U0001F468\u200d\U0001F469",
         "\u0301\u0308\u0327", "\u00a0\u2003\u3000\u0085\u180e\u200b", "\u0660\u0661\u0969\u096a\u216b\u00bd",
         "\u02bc\u2019\u2018", "\u2581", "<|eot_id|><s></s><|im_end|><think><start_of_turn>"]


def fixed_texts():
    """tests/tokenizer/texts.json."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "texts.json"), encoding="utf-8") as f:
        return json.load(f)


def random_texts(n=400, seed=20240611):
    """n random mixes of 1 to 40 picks from POOLS (a character, or a prefix
    of the pool), the same for the same seed."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        t = ""
        for _ in range(rng.randint(1, 40)):
            pool = rng.choice(POOLS)
            t += rng.choice(pool) if rng.random() < 0.8 else pool[:rng.randint(1, len(pool))]
        texts.append(t)
    return texts
