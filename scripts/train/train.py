#!/usr/bin/env python3
"""Trains wgpt's default model: a small Llama (model.py) and its byte-level
BPE tokenizer on the King James Bible (scripts/train/prepare_corpus.sh), then
exports it as GGUF and as a Hugging Face folder, with reference logits.

  train.py --data DIR [--out DIR] [--minutes 6] [--runs "10:0.1,20:0.1,..."]
           [--dry-run | --numpy-selftest | --export-only]

DIR holds kjv_train.txt and kjv_valid.txt (one verse per line).

Steps (on the GPU machine: torch, tokenizers, numpy; transformers optional):
1. Tokenizer: Hugging Face `tokenizers` BPE on the training split, ByteLevel
   pre-tokenizer with the GPT-2 regex (add_prefix_space false), ByteLevel
   decoder, special tokens <|bos|> (0) and <|eos|> (1), a TemplateProcessing
   post-processor that prepends <|bos|>.
2. Data: every verse is followed by "\\n". A training sequence is <|bos|> and
   then ctx-1 tokens of the verse stream starting at a random verse; its
   targets are the same tokens shifted by one. The validation split is packed
   into windows of whole verses (each <|bos|> + up to ctx tokens, every
   validation token predicted once): the validation loss is the mean
   cross-entropy per token over all validation tokens.
3. Training: AdamW (betas 0.9/0.95, weight decay on matrices), linear warmup
   then cosine decay to lr*min_lr_frac, bf16 autocast, gradient clipping.
   --runs lists runs "EPOCHS:DROPOUT"; each is a fresh model trained for that
   many epochs over the training tokens, evaluated on the validation split
   every half epoch; the checkpoint with the lowest validation loss over all
   runs is kept (so the reported validation loss is also the selection
   criterion). Runs stop when --minutes of training time are used up.
4. The kept weights are rounded to float16 (the model IS the f16 weights:
   the f16 safetensors, the f32 and f16 GGUFs all hold exactly the same
   numbers), evaluated again in float32, and saved to OUT/ckpt.pt.
5. Exports (OUT/): hf/ (model.safetensors F16, config.json for
   LlamaForCausalLM, tokenizer.json, tokenizer_config.json); NAME-q8_0.gguf
   and NAME-f32.gguf (hf_to_gguf.py); ref/ (reference.npz: ids_K int32 and
   logits_K float32 [positions, vocab] for 4 prompts, from the PyTorch model
   in float64 on CPU; reference.json: prompts, ids, metrics, 3 greedy
   continuations of 64 tokens with their top-1/top-2 logit gaps, the checks
   below; valid_ids.json: the `tokenizers` ids (with <|bos|>) of all of
   kjv_valid.txt, which is copied alongside). Checks printed: PyTorch f64 vs
   a numpy f64 forward pass (HF layout), numpy on the GGUF (llama.cpp RoPE
   layout, permuted Q/K) vs PyTorch for f32 and q8_0, and, if transformers
   imports, LlamaForCausalLM.from_pretrained(hf/) vs our model in f32.
6. OUT/ship/: what to copy back, each file under --split-mb MB:
   NAME-q8_0.gguf, NAME-hf.tar.partNN (a tar of NAME/hf, NAME/ref and
   NAME/train_log.txt, split; cat the parts to rebuild it) and train_log.txt.

--dry-run: tiny model, 20 steps, on CPU, on a slice of the data; every export
  and check runs. Use it first on a new machine.
--numpy-selftest: no torch: random weights and the pure-Python tokenizer
  (bytebpe.py) through the same export code (for machines without torch).
--export-only: redo step 5-6 from OUT/ckpt.pt and OUT/hf/tokenizer.json.
"""

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import tarfile
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import bytebpe  # noqa: E402
import hf_to_gguf  # noqa: E402
import llama_np  # noqa: E402

BOS, EOS = "<|bos|>", "<|eos|>"
# Four fixed prompts for the reference logits; the first three also get
# greedy continuations. The last one is long, to cover many positions.
PROMPTS = [
    "In the beginning",
    "And God said,",
    "The LORD is my shepherd;",
    "And it came to pass, when men began to multiply on the face of the earth, and daughters were born "
    "unto them,\nThat the sons of God saw the daughters of men that they were fair; and they took them "
    "wives of all which they chose.\n",
]
N_GREEDY, GREEDY_TOKENS = 3, 64


class Log:
    def __init__(self):
        self.f = None
        self.lines = []

    def open(self, path):
        self.f = open(path, "a", encoding="utf-8")
        for line in self.lines:
            self.f.write(line + "\n")
        self.f.flush()

    def __call__(self, *parts):
        line = " ".join(str(p) for p in parts)
        print(line, flush=True)
        self.lines.append(line)
        if self.f:
            self.f.write(line + "\n")
            self.f.flush()


log = Log()


# ----------------------------------------------------------------- tokenizer

class HFTok:
    """A Hugging Face `tokenizers` Tokenizer (the real one)."""

    def __init__(self, tok):
        self.tok = tok
        self.bos = tok.token_to_id(BOS)
        self.eos = tok.token_to_id(EOS)
        self.vocab_size = tok.get_vocab_size()

    @staticmethod
    def train(lines, vocab_size):
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                      special_tokens=[BOS, EOS],
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        tok.train_from_iterator([line + "\n" for line in lines], trainer=trainer)
        bos = tok.token_to_id(BOS)
        tok.post_processor = processors.TemplateProcessing(
            single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos)])
        return HFTok(tok)

    @staticmethod
    def load(path):
        from tokenizers import Tokenizer
        return HFTok(Tokenizer.from_file(path))

    def save_json(self, path):
        self.tok.save(path)

    def encode(self, text, bos):
        return self.tok.encode(text, add_special_tokens=bos).ids

    def encode_batch(self, texts):
        return [e.ids for e in self.tok.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids):
        return self.tok.decode(list(ids), skip_special_tokens=True)


class FallbackTok:
    """bytebpe.py: the same structure, for machines without `tokenizers`."""

    def __init__(self, vocab, merges):
        self.enc = bytebpe.Encoder(vocab, merges)
        self.merges = merges
        self.bos, self.eos = vocab[BOS], vocab[EOS]
        self.vocab_size = len(vocab)

    @staticmethod
    def train(lines, vocab_size):
        return FallbackTok(*bytebpe.train([line + "\n" for line in lines], vocab_size, [BOS, EOS]))

    @staticmethod
    def load(path):
        m = json.load(open(path, encoding="utf-8"))["model"]
        return FallbackTok(m["vocab"], [tuple(x) if isinstance(x, list) else tuple(x.split(" ")) for x in m["merges"]])

    def save_json(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(bytebpe.tokenizer_json(self.enc.vocab, self.merges, [BOS, EOS], BOS), f,
                      ensure_ascii=False, indent=2)

    def encode(self, text, bos):
        return ([self.bos] if bos else []) + self.enc.encode(text)

    def encode_batch(self, texts):
        return [self.enc.encode(t) for t in texts]

    def decode(self, ids):
        return self.enc.decode(ids, skip={self.bos, self.eos})


def tokenizer_class(numpy_only):
    if numpy_only:
        return FallbackTok
    try:
        import tokenizers  # noqa: F401
        return HFTok
    except ImportError:
        log("WARNING: `tokenizers` is not installed; using the pure-Python fallback tokenizer (bytebpe.py)")
        return FallbackTok


def save_tokenizer(tok, hf_dir, ctx):
    tok.save_json(os.path.join(hf_dir, "tokenizer.json"))
    tc = {"add_bos_token": True, "add_eos_token": False, "bos_token": BOS, "eos_token": EOS,
          "clean_up_tokenization_spaces": False, "model_max_length": ctx,
          "tokenizer_class": "PreTrainedTokenizerFast"}
    with open(os.path.join(hf_dir, "tokenizer_config.json"), "w") as f:
        json.dump(tc, f, indent=2)


# ---------------------------------------------------------------------- data

def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def encode_verses(tok, lines):
    """Token ids of every verse followed by "\\n" (lists)."""
    return tok.encode_batch([line + "\n" for line in lines])


def verse_stream(per_verse):
    lens = np.array([len(x) for x in per_verse], dtype=np.int64)
    stream = np.fromiter((t for x in per_verse for t in x), dtype=np.int64, count=int(lens.sum()))
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    return stream, starts


def pack_windows(per_verse, T, bos):
    """Validation windows: X [n, T] (bos + tokens, 0-padded), Y [n, T]
    (the tokens, -100-padded). Whole verses per window; a verse longer than
    T is cut into T-token pieces. Every token is a target exactly once."""
    X, Y, cur = [], [], []

    def flush():
        if cur:
            x = [bos] + cur[:-1]
            X.append(x + [0] * (T - len(x)))
            Y.append(cur + [-100] * (T - len(cur)))

    for ids in per_verse:
        for i in range(0, len(ids), T):
            piece = list(ids[i:i + T])
            if len(cur) + len(piece) > T:
                flush()
                cur = []
            cur = cur + piece
    flush()
    return np.array(X, dtype=np.int64), np.array(Y, dtype=np.int64)


# --------------------------------------------------------------------- model config

def model_config(a, vocab):
    return dict(vocab=vocab, dim=a.dim, layers=a.layers, heads=a.heads, kv_heads=a.kv_heads, ffn=a.ffn,
                ctx=a.ctx, rope_base=10000.0, eps=1e-5, tied=not a.untied)


def hf_config(cfg, tok):
    hd = cfg["dim"] // cfg["heads"]
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": cfg["vocab"],
        "hidden_size": cfg["dim"],
        "intermediate_size": cfg["ffn"],
        "num_hidden_layers": cfg["layers"],
        "num_attention_heads": cfg["heads"],
        "num_key_value_heads": cfg["kv_heads"],
        "head_dim": hd,
        "hidden_act": "silu",
        "max_position_embeddings": cfg["ctx"],
        "rms_norm_eps": cfg["eps"],
        "rope_theta": cfg["rope_base"],
        "rope_parameters": {"rope_type": "default", "rope_theta": cfg["rope_base"]},
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "initializer_range": 0.02,
        "pretraining_tp": 1,
        "tie_word_embeddings": cfg["tied"],
        "use_cache": True,
        "bos_token_id": tok.bos,
        "eos_token_id": tok.eos,
        "torch_dtype": "float16",
    }


def parse_runs(spec):
    runs = []
    for item in spec.split(","):
        e, d = item.split(":")
        runs.append((float(e), float(d)))
    return runs


# ------------------------------------------------------------------- training

def train(a, cfg, train_ids, valid_xy, train_eval_xy, tok):
    import torch
    from model import LlamaLM

    dev = torch.device("cpu" if a.dry_run or not torch.cuda.is_available() else "cuda")
    log(f"torch {torch.__version__}, device {dev}" +
        (f" ({torch.cuda.get_device_name(0)})" if dev.type == "cuda" else ""))
    amp = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if dev.type == "cuda" else contextlib.nullcontext

    stream, starts = train_ids
    T, B = cfg["ctx"], a.batch
    stream_t = torch.from_numpy(stream).to(dev)
    ok_starts = starts[starts + T <= len(stream)]
    starts_t = torch.from_numpy(ok_starts).to(dev)
    ar = torch.arange(T, device=dev)
    bos_col = torch.full((B, 1), tok.bos, dtype=torch.long, device=dev)
    Xv, Yv = (torch.from_numpy(t).to(dev) for t in valid_xy)
    Xt, Yt = (torch.from_numpy(t).to(dev) for t in train_eval_xy)
    steps_per_epoch = max(1, len(stream) // (B * T))
    log(f"train tokens {len(stream)}, verses {len(starts)}, steps/epoch {steps_per_epoch} "
        f"(batch {B} x {T}); valid tokens {int((Yv != -100).sum())} in {len(Xv)} windows")

    @torch.no_grad()
    def evaluate(model, X, Y, use_amp=True):
        model.eval()
        tot = torch.zeros((), dtype=torch.float64, device=dev)
        for i in range(0, len(X), a.eval_batch):
            with (amp() if use_amp else contextlib.nullcontext()):
                s = model(X[i:i + a.eval_batch], Y[i:i + a.eval_batch], reduction="sum")
            tot += s.double()
        model.train()
        return (tot / (Y != -100).sum()).item()

    def batch(gen):
        idx = starts_t[torch.randint(len(starts_t), (B,), device=dev, generator=gen)]
        chunk = stream_t[idx[:, None] + ar[None, :]]
        return torch.cat([bos_col, chunk[:, :-1]], dim=1), chunk

    t_start = time.time()
    deadline = t_start + a.minutes * 60
    best = dict(loss=float("inf"))
    runs = parse_runs(a.runs)
    for ri, (epochs, dropout) in enumerate(runs):
        if time.time() >= deadline:
            log(f"run {ri}: skipped (time budget used up)")
            continue
        torch.manual_seed(a.seed + ri)
        gen = torch.Generator(device=dev)
        gen.manual_seed(a.seed + 1000 + ri)
        model = LlamaLM(dict(cfg, dropout=dropout)).to(dev)
        if ri == 0:
            log(f"model: {model.n_params():,} parameters; config {json.dumps(cfg)}")
        fwd = model
        if a.compile:
            # Compilation happens on the first call: try one step's forward
            # and backward here and fall back to eager mode if it fails.
            try:
                fwd = torch.compile(model)
                x, y = batch(gen)
                with amp():
                    fwd(x, y).backward()
                model.zero_grad(set_to_none=True)
            except Exception as e:  # noqa: BLE001
                log(f"torch.compile failed ({type(e).__name__}: {e}); running eagerly")
                fwd = model
                model.zero_grad(set_to_none=True)
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=a.lr, betas=(0.9, 0.95), eps=1e-8, fused=dev.type == "cuda")
        total = max(1, int(round(epochs * steps_per_epoch)))
        if a.max_steps:
            total = min(total, a.max_steps)
        warm = max(1, min(a.warmup, total // 10))
        eval_every = a.eval_every or max(1, steps_per_epoch // 2)
        log(f"run {ri}: {epochs:g} epochs = {total} steps, dropout {dropout:g}, lr {a.lr:g}, warmup {warm}")

        def lr_at(s):
            if s < warm:
                return a.lr * (s + 1) / warm
            p = (s - warm) / max(1, total - warm)
            return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))

        run_best = float("inf")
        acc = torch.zeros((), device=dev)
        acc_n = 0
        t_run = time.time()
        for step in range(total):
            lr = lr_at(step)
            for g in opt.param_groups:
                g["lr"] = lr
            x, y = batch(gen)
            with amp():
                loss = fwd(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            acc += loss.detach()
            acc_n += 1
            out_of_time = time.time() >= deadline
            if (step + 1) % eval_every == 0 or step + 1 == total or out_of_time:
                vl = evaluate(model, Xv, Yv)
                tl = evaluate(model, Xt, Yt)
                tr = (acc / max(1, acc_n)).item()
                acc.zero_()
                acc_n = 0
                el = time.time() - t_run
                mark = ""
                if vl < run_best:
                    run_best = vl
                if vl < best["loss"]:
                    best = dict(loss=vl, run=ri, step=step + 1, epoch=(step + 1) / steps_per_epoch,
                                epochs=epochs, dropout=dropout,
                                state={k: v.detach().float().cpu().clone() for k, v in model.state_dict().items()})
                    mark = " *"
                log(f"run {ri} step {step + 1:5d}/{total} ep {(step + 1) / steps_per_epoch:6.2f} lr {lr:.2e} "
                    f"train(dropout) {tr:.4f} train {tl:.4f} valid {vl:.4f} ppl {math.exp(vl):7.2f} "
                    f"{el:6.1f}s{mark}")
            if out_of_time:
                log(f"run {ri}: time budget reached at step {step + 1}/{total}")
                break
        log(f"run {ri}: best valid {run_best:.4f} ({(time.time() - t_run) / max(1, step + 1) * 1000:.1f} ms/step)")
        del model, fwd, opt

    log(f"kept run {best['run']} ({best['epochs']:g} epochs, dropout {best['dropout']:g}) at step {best['step']} "
        f"(epoch {best['epoch']:.2f}): valid {best['loss']:.4f} (bf16 autocast); training took "
        f"{time.time() - t_start:.0f}s")

    # The model is the f16-rounded weights; evaluate them in f32.
    state = {k: v.half().float() for k, v in best["state"].items()}
    model = LlamaLM(dict(cfg, dropout=0.0)).to(dev)
    model.load_state_dict(state)
    vl = evaluate(model, Xv, Yv, use_amp=False)
    tl = evaluate(model, Xt, Yt, use_amp=False)
    metrics = dict(valid_loss=vl, valid_ppl=math.exp(vl), train_loss=tl, params=model.n_params(),
                   run=best["run"], run_epochs=best["epochs"], dropout=best["dropout"], step=best["step"],
                   epoch=best["epoch"], selected_valid_loss_bf16=best["loss"])
    return state, metrics


# ------------------------------------------------------------------- exports

def greedy(logits_fn, ids, n):
    ids = list(ids)
    out, gaps = [], []
    for _ in range(n):
        lg = logits_fn(ids)[-1]
        order = np.argsort(-lg, kind="stable")
        out.append(int(order[0]))
        gaps.append(float(lg[order[0]] - lg[order[1]]))
        ids.append(int(order[0]))
    return out, gaps


def split_file(path, dest_dir, part_bytes):
    names = []
    with open(path, "rb") as f:
        k = 0
        while True:
            chunk = f.read(part_bytes)
            if not chunk:
                break
            name = os.path.join(dest_dir, f"{os.path.basename(path)}.part{k:02d}")
            with open(name, "wb") as g:
                g.write(chunk)
            names.append(name)
            k += 1
    return names


def export(a, cfg, W, tok, metrics, logits_fn, valid_text, hf_check=None):
    """W: {HF name: float32 numpy (f16-exact)}. logits_fn(ids) -> float64
    [n, vocab] from the reference implementation (PyTorch f64 or numpy);
    hf_check(hf_dir, list of id lists) -> dict, the transformers check."""
    out = a.out
    hf_dir = os.path.join(out, "hf")
    ref_dir = os.path.join(out, "ref")
    for d in (hf_dir, ref_dir):
        os.makedirs(d, exist_ok=True)
    name = a.name

    # (b) Hugging Face folder
    llama_np.write_safetensors(os.path.join(hf_dir, "model.safetensors"), W, "F16")
    with open(os.path.join(hf_dir, "config.json"), "w") as f:
        json.dump(hf_config(cfg, tok), f, indent=2)
    save_tokenizer(tok, hf_dir, cfg["ctx"])
    W = llama_np.read_hf_weights(hf_dir)  # what the folder holds, read back
    log(f"wrote {hf_dir}: model.safetensors {os.path.getsize(os.path.join(hf_dir, 'model.safetensors'))} bytes")

    # (a) GGUF
    ggufs = {}
    for t in a.gguf.split(","):
        p = os.path.join(out, f"{name}-{t}.gguf")
        hf_to_gguf.convert(hf_dir, p, t, name=f"{name}-{t}", W=W, quiet=True)
        ggufs[t] = p
        log(f"wrote {p}: {os.path.getsize(p)} bytes")

    # (c) reference data
    checks = {}
    prompts, npz = [], {}
    for k, text in enumerate(PROMPTS):
        ids = tok.encode(text, bos=True)
        if len(ids) + (GREEDY_TOKENS if k < N_GREEDY else 0) > cfg["ctx"]:
            raise ValueError(f"prompt {k} does not fit the context")
        lg = logits_fn(ids)
        npz[f"ids_{k}"] = np.array(ids, dtype=np.int32)
        npz[f"logits_{k}"] = lg.astype(np.float32)
        entry = dict(text=text, ids=ids, positions=len(ids), logits=f"logits_{k}",
                     top1=[int(i) for i in lg.argmax(-1)])
        if k == 0:
            d = float(np.max(np.abs(lg - llama_np.forward_hf(W, cfg, ids))))
            checks["reference_vs_numpy_hf_layout_max_abs"] = d
            log(f"check: reference vs numpy float64 forward (HF layout), prompt 0: max |diff| {d:.3g}")
        if k < N_GREEDY:
            gen, gaps = greedy(logits_fn, ids, GREEDY_TOKENS)
            entry["greedy"] = dict(ids=gen, text=tok.decode(gen), min_gap=min(gaps), gaps=gaps)
        prompts.append(entry)
    np.savez(os.path.join(ref_dir, "reference.npz"), **npz)

    all_ids = [p["ids"] for p in prompts]
    for t, p in ggufs.items():
        meta, G = llama_np.read_gguf(p)
        gcfg = llama_np.config_from_gguf_meta(meta)
        worst, agree, n = 0.0, 0, 0
        for k, ids in enumerate(all_ids):
            lg = llama_np.forward_gguf(G, gcfg, ids)
            worst = max(worst, float(np.max(np.abs(lg - npz[f"logits_{k}"]))))
            agree += int(np.sum(lg.argmax(-1) == npz[f"logits_{k}"].argmax(-1)))
            n += len(ids)
        checks[f"gguf_{t}_numpy_vs_reference_max_abs"] = worst
        checks[f"gguf_{t}_numpy_top1_agreement"] = agree / n
        log(f"check: numpy forward of {os.path.basename(p)} (llama.cpp RoPE, permuted Q/K) vs reference: "
            f"max |diff| {worst:.3g}, top-1 agreement {agree}/{n}")
    if hf_check is not None:
        checks.update(hf_check(hf_dir, all_ids))

    valid_ids = tok.encode(valid_text, bos=True)
    with open(os.path.join(ref_dir, "valid_ids.json"), "w") as f:
        json.dump({"text_file": "kjv_valid.txt", "add_bos": True, "n": len(valid_ids), "ids": valid_ids}, f)
    with open(os.path.join(ref_dir, "kjv_valid.txt"), "w", encoding="utf-8") as f:
        f.write(valid_text)
    ref = dict(
        model=cfg, name=name, tokenizer=dict(bos=tok.bos, eos=tok.eos, vocab=tok.vocab_size),
        metrics=metrics, checks=checks, prompts=prompts,
        logits_note="reference.npz logits_K: float32 [positions, vocab], computed in float64 by the "
                    "reference implementation from the f16-exact weights (no autocast); ids_K include BOS.",
    )
    with open(os.path.join(ref_dir, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
    log(f"wrote {ref_dir}: reference.npz, reference.json, valid_ids.json ({len(valid_ids)} ids), kjv_valid.txt")

    log("greedy continuations (64 tokens, from the reference model):")
    for p in prompts[:N_GREEDY]:
        log(f"--- prompt {p['text']!r} (min top-1/top-2 gap {p['greedy']['min_gap']:.3f})")
        log(p["text"] + p["greedy"]["text"])
    log("---")
    return ggufs


def ship(a):
    """Packs hf/, ref/ and the log into a tar, splits what is too big."""
    out, name = a.out, a.name
    tar_path = os.path.join(out, f"{name}-hf.tar")
    with tarfile.open(tar_path, "w") as tf:
        for sub in ("hf", "ref"):
            tf.add(os.path.join(out, sub), arcname=f"{name}/{sub}")
        tf.add(os.path.join(out, "train_log.txt"), arcname=f"{name}/train_log.txt")
    ship_dir = os.path.join(out, "ship")
    shutil.rmtree(ship_dir, ignore_errors=True)
    os.makedirs(ship_dir)
    limit = int(a.split_mb * 1_000_000)
    parts = split_file(tar_path, ship_dir, limit)
    files = parts[:]
    for t in a.ship_gguf.split(","):
        if not t:
            continue
        src = os.path.join(out, f"{name}-{t}.gguf")
        if os.path.getsize(src) > limit:
            files += split_file(src, ship_dir, limit)
            log(f"NOTE: {os.path.basename(src)} is over {a.split_mb} MB: shipped in parts")
        else:
            dst = os.path.join(ship_dir, os.path.basename(src))
            shutil.copyfile(src, dst)
            files.append(dst)
    for f in files:
        log(f"ship: {os.path.relpath(f, out)} {os.path.getsize(f)} bytes")
    log(f"rebuild the tar with: cat {name}-hf.tar.part* > {name}-hf.tar")


# ---------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="build/train", help="folder with kjv_train.txt and kjv_valid.txt")
    ap.add_argument("--out", default="/tmp/wgpt-train")
    ap.add_argument("--name", default="wgpt-kjv")
    ap.add_argument("--minutes", type=float, default=6.0, help="wall budget for training (all runs)")
    ap.add_argument("--runs", default="10:0.1,20:0.1,40:0.2,80:0.2", help="EPOCHS:DROPOUT,...")
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--untied", action="store_true", help="separate output matrix (default: tied)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--eval-batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--eval-every", type=int, default=0, help="steps (default: half an epoch)")
    ap.add_argument("--max-steps", type=int, default=0, help="cap on steps per run (0: none)")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--compile", action="store_true", help="torch.compile the model")
    ap.add_argument("--gguf", default="q8_0,f32", help="GGUF types written to OUT")
    ap.add_argument("--ship-gguf", default="q8_0", help="GGUF types copied to OUT/ship")
    ap.add_argument("--split-mb", type=float, default=15.0, help="largest file in OUT/ship, MB")
    ap.add_argument("--dry-run", action="store_true", help="tiny model, 20 steps, CPU, data slice")
    ap.add_argument("--numpy-selftest", action="store_true", help="no torch: random weights through the exports")
    ap.add_argument("--export-only", action="store_true", help="exports from OUT/ckpt.pt")
    a = ap.parse_args()
    if a.dry_run or a.numpy_selftest:
        a.vocab, a.dim, a.layers, a.heads, a.kv_heads, a.ffn, a.ctx = 384, 64, 2, 4, 2, 192, 256
        a.batch, a.eval_batch, a.max_steps, a.eval_every, a.runs = 8, 16, 20, 10, "1:0.1,1:0.0"
    if a.dim % a.heads or a.heads % a.kv_heads or (a.dim // a.heads) % 2:
        ap.error("dim must split into heads of even size, heads into kv-heads")

    os.makedirs(a.out, exist_ok=True)
    log.open(os.path.join(a.out, "train_log.txt"))
    log(f"=== train.py {' '.join(sys.argv[1:])}  ({time.strftime('%Y-%m-%d %H:%M:%S')})")
    t0 = time.time()
    train_lines = read_lines(os.path.join(a.data, "kjv_train.txt"))
    valid_lines = read_lines(os.path.join(a.data, "kjv_valid.txt"))
    if a.dry_run or a.numpy_selftest:
        train_lines, valid_lines = train_lines[:3000], valid_lines[:60]
    valid_text = "".join(line + "\n" for line in valid_lines)
    log(f"data: {len(train_lines)} training verses ({sum(len(x) + 1 for x in train_lines)} bytes), "
        f"{len(valid_lines)} validation verses ({len(valid_text.encode())} bytes)")
    Tok = tokenizer_class(a.numpy_selftest)
    hf_dir = os.path.join(a.out, "hf")
    os.makedirs(hf_dir, exist_ok=True)
    tok_path = os.path.join(hf_dir, "tokenizer.json")
    ckpt_path = os.path.join(a.out, "ckpt.pt")

    if a.export_only:
        import torch
        ck = torch.load(ckpt_path, map_location="cpu")
        cfg, metrics = ck["cfg"], ck["metrics"]
        state = ck["state"]
        tok = Tok.load(tok_path)
    else:
        t = time.time()
        tok = Tok.train(train_lines, a.vocab)
        save_tokenizer(tok, hf_dir, a.ctx)
        tok = Tok.load(tok_path)  # from here on, exactly what the file says
        log(f"tokenizer: {tok.vocab_size} tokens (bos {tok.bos}, eos {tok.eos}), {time.time() - t:.1f}s")
        cfg = model_config(a, tok.vocab_size)
        t = time.time()
        train_pv = encode_verses(tok, train_lines)
        valid_pv = encode_verses(tok, valid_lines)
        n_valid_tok = sum(len(x) for x in valid_pv)
        log(f"tokenized in {time.time() - t:.1f}s: {sum(len(x) for x in train_pv)} training tokens "
            f"({sum(len(x) + 1 for x in train_lines) / max(1, sum(len(x) for x in train_pv)):.2f} bytes/token), "
            f"{n_valid_tok} validation tokens")
        joined = tok.encode(valid_text, bos=False)
        if joined != [t for x in valid_pv for t in x]:
            log("WARNING: tokenizing the validation text whole differs from verse by verse")
        train_ids = verse_stream(train_pv)
        valid_xy = pack_windows(valid_pv, a.ctx, tok.bos)
        rng = np.random.default_rng(a.seed)
        pick = np.sort(rng.choice(len(train_pv), size=min(len(train_pv), len(valid_pv)), replace=False))
        train_eval_xy = pack_windows([train_pv[i] for i in pick], a.ctx, tok.bos)

        if a.numpy_selftest:
            rng = np.random.default_rng(a.seed)
            state = random_weights(cfg, rng)
            metrics = dict(valid_loss=float("nan"), note="numpy selftest: random weights, no training")
        else:
            import torch
            state, metrics = train(a, cfg, train_ids, valid_xy, train_eval_xy, tok)
            metrics["valid_tokens"] = n_valid_tok
            metrics["valid_bytes"] = len(valid_text.encode())
            metrics["valid_bits_per_byte"] = metrics["valid_loss"] * n_valid_tok / metrics["valid_bytes"] / math.log(2)
            torch.save({"cfg": cfg, "metrics": metrics, "state": state}, ckpt_path)
            log(f"saved {ckpt_path}")
            log(f"FINAL valid loss {metrics['valid_loss']:.4f} nats/token, perplexity {metrics['valid_ppl']:.2f} "
                f"(per token, {n_valid_tok} tokens of the {len(valid_lines)} validation verses; "
                f"{metrics['valid_bits_per_byte']:.3f} bits/byte); train loss {metrics['train_loss']:.4f}; "
                f"{metrics['params']:,} parameters; f16 weights evaluated in f32")

    if a.numpy_selftest:
        W = {k: np.asarray(v, dtype=np.float32) for k, v in state.items()}

        def logits_fn(ids):
            return llama_np.forward_hf(W, cfg, ids)
    else:
        import torch
        from model import LlamaLM
        W = {k: v.float().numpy() for k, v in state.items()}
        ref = LlamaLM(dict(cfg, dropout=0.0))
        ref.load_state_dict(state)
        ref = ref.double()
        ref.set_rope_dtype(torch.float64)
        ref.eval()

        def logits_fn(ids):
            with torch.no_grad():
                return ref(torch.tensor([ids], dtype=torch.long))[0].numpy()

        def hf_check(d, ids):
            return transformers_check(d, cfg, state, ids)
    export(a, cfg, W, tok, metrics, logits_fn, valid_text, None if a.numpy_selftest else hf_check)
    if not a.numpy_selftest:
        log(f"FINAL valid loss {metrics['valid_loss']:.4f} nats/token, perplexity {metrics['valid_ppl']:.2f} "
            f"(per token; {metrics.get('valid_bits_per_byte', float('nan')):.3f} bits/byte)")
    log(f"total time {time.time() - t0:.0f}s")
    ship(a)
    shutil.copyfile(os.path.join(a.out, "train_log.txt"), os.path.join(a.out, "ship", "train_log.txt"))


def random_weights(cfg, rng):
    """HF-named float32 weights (f16-exact) for --numpy-selftest, scaled so
    that the logits are not flat."""
    d, f, V, H, KV = cfg["dim"], cfg["ffn"], cfg["vocab"], cfg["heads"], cfg["kv_heads"]
    hd = d // H
    W = {"model.embed_tokens.weight": rng.standard_normal((V, d)) * 0.5,
         "model.norm.weight": 1 + 0.1 * rng.standard_normal(d)}
    for i in range(cfg["layers"]):
        p = f"model.layers.{i}."
        for n, shape in (("self_attn.q_proj", (H * hd, d)), ("self_attn.k_proj", (KV * hd, d)),
                         ("self_attn.v_proj", (KV * hd, d)), ("self_attn.o_proj", (d, H * hd)),
                         ("mlp.gate_proj", (f, d)), ("mlp.up_proj", (f, d)), ("mlp.down_proj", (d, f))):
            W[p + n + ".weight"] = rng.standard_normal(shape) / math.sqrt(shape[1])
        W[p + "input_layernorm.weight"] = 1 + 0.1 * rng.standard_normal(d)
        W[p + "post_attention_layernorm.weight"] = 1 + 0.1 * rng.standard_normal(d)
    if not cfg["tied"]:
        W["lm_head.weight"] = rng.standard_normal((V, d)) * 0.5
    return {k: v.astype(np.float16).astype(np.float32) for k, v in W.items()}


def transformers_check(hf_dir, cfg, state, all_ids):
    """Loads hf_dir with transformers' LlamaForCausalLM and compares its f32
    logits with ours (f32, CPU). Never raises: a failure is reported."""
    res = {}
    try:
        import torch
        import transformers
        from transformers import LlamaForCausalLM
    except Exception as e:  # noqa: BLE001
        log(f"check: transformers not importable ({type(e).__name__}: {e}); HF load check skipped")
        return {"hf_transformers": "not importable"}
    try:
        from model import LlamaLM
        try:
            m = LlamaForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
        except TypeError:
            m = LlamaForCausalLM.from_pretrained(hf_dir, torch_dtype=torch.float32)
        m = m.to(torch.float32).eval()
        ours = LlamaLM(dict(cfg, dropout=0.0))
        ours.load_state_dict(state)
        ours.eval()
        worst = 0.0
        with torch.no_grad():
            for ids in all_ids:
                x = torch.tensor([ids], dtype=torch.long)
                hl = m(input_ids=x).logits[0].float()
                ol = ours(x)[0]
                worst = max(worst, (hl - ol).abs().max().item())
        res["hf_transformers_version"] = transformers.__version__
        res["hf_transformers_vs_ours_f32_max_abs"] = worst
        log(f"check: transformers {transformers.__version__} LlamaForCausalLM.from_pretrained(hf/) vs our model, "
            f"f32 CPU logits: max |diff| {worst:.3g}")
    except Exception as e:  # noqa: BLE001
        log(f"check: FAILED to compare with transformers' LlamaForCausalLM: {type(e).__name__}: {e}")
        log(traceback.format_exc())
        res["hf_transformers"] = f"failed: {type(e).__name__}: {e}"
    try:
        from transformers import AutoTokenizer
        at = AutoTokenizer.from_pretrained(hf_dir)
        same = all(at(PROMPTS[k])["input_ids"] == all_ids[k] for k in range(len(all_ids)))
        res["hf_autotokenizer_ids_match"] = bool(same)
        log(f"check: transformers AutoTokenizer ids for the prompts {'match' if same else 'DIFFER'}")
    except Exception as e:  # noqa: BLE001
        log(f"check: AutoTokenizer failed: {type(e).__name__}: {e}")
        res["hf_autotokenizer"] = f"failed: {type(e).__name__}: {e}"
    return res


if __name__ == "__main__":
    main()
