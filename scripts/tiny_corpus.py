"""English text the tiny test models' vocabularies learn their merges from
(make_tiny_llama.py, make_tiny_qwen.py), the kind of text the tests feed."""


def english(i_am="I am", tail=""):
    """The shared corpus; `i_am` spells one phrase (a contraction for the
    byte-level BPE), `tail` is appended after the last line."""
    return f"""
Once upon a time there was a little girl who lived in a village near the forest.
Whenever she went out, the little girl wore a red riding cloak, so everyone in the
village called her Little Red Riding Hood. One morning, she asked her mother if she
could go to visit her grandmother as it had been a while since they had seen each other.
The quick brown fox jumps over the lazy dog. It is a truth universally acknowledged,
that a single man in possession of a good fortune, must be in want of a wife.
In the beginning the universe was created. This has made a lot of people very angry
and been widely regarded as a bad move. The meaning of life is a question that people
have asked for thousands of years, and there are many different answers to it.
We hold these truths to be self-evident, that all men are created equal, that they
are endowed with certain rights, that among these are life, liberty and the pursuit
of happiness. What is the capital of France? The capital of France is Paris.
Hello, world! How are you today? {i_am} fine, thank you. My name is Sam and I like to
read books about science, history and computers. The sun is shining and the weather
is nice. Water boils at one hundred degrees. Numbers: 1, 2, 3, 10, 42, 100, 2024.
{tail}"""


def apply_merge(segs, a, b):
    """Every word's segmentation (segs: word -> list of pieces) with each
    adjacent a, b joined: one step of BPE training."""
    merged = a + b
    for w, s in segs.items():
        out, i = [], 0
        while i < len(s):
            if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                out.append(merged)
                i += 2
            else:
                out.append(s[i])
                i += 1
        segs[w] = out
