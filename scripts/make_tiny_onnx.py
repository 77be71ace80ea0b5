#!/usr/bin/python3
"""Makes a transformers.js-style ONNX q4 folder from a tiny Hugging Face
folder (scripts/make_tiny_hf.py), the way those folders are made:
torch.onnx.export of the transformers model (input_ids -> logits, no KV
cache), then onnxruntime's MatMulNBitsQuantizer (4 bits, block 32,
symmetric as transformers.js's quantize script, or --asymmetric for zero
points), which also turns the embedding's Gather into GatherBlockQuantized
unless --no-gather.

  make_tiny_onnx.py IN_DIR OUT_DIR [--asymmetric] [--no-gather] [--external-data]
      [--exporter auto|torchscript|dynamo]

OUT_DIR gets onnx/model_q4.onnx (with onnx/model_q4.onnx_data when
--external-data), and IN_DIR's config.json, tokenizer.json,
tokenizer_config.json, generation_config.json.

Node names are Optimum's (the TorchScript exporter's module paths,
"/model/layers.0/self_attn/q_proj/MatMul"), which is what wgpt reads the
quantized weights' roles from; the dynamo exporter's MatMul nodes are
renamed to them, found by comparing each weight with the model's
parameters. Before writing, the script checks what it made: the float
export against torch at two sequence lengths, every Linear quantized, and
the q4 model run by onnxruntime at two lengths. Needs torch, transformers,
onnx, onnxruntime; exits 1 with the reason when a check fails.
"""

import argparse
import os
import re
import shutil
import sys

COPY = ["config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"]


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("in_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--asymmetric", action="store_true", help="zero points per block (default: symmetric)")
    ap.add_argument("--no-gather", action="store_true", help="leave the embedding's Gather in float")
    ap.add_argument("--external-data", action="store_true", help="weights in onnx/model_q4.onnx_data")
    ap.add_argument("--exporter", choices=["auto", "torchscript", "dynamo"], default="auto")
    args = ap.parse_args()
    for f in ["config.json", "tokenizer.json"]:
        if not os.path.isfile(os.path.join(args.in_dir, f)):
            ap.error(f"{args.in_dir}: no {f}")
    if not any(os.path.isfile(os.path.join(args.in_dir, f))
               for f in ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"]):
        ap.error(f"{args.in_dir}: no weights")
    return args


def export(model, path, exporter, torch):
    """model -> path (float ONNX), input_ids [batch, seq] -> logits."""
    ids = torch.tensor([[1, 5, 9, 200, 17, 3, 44]], dtype=torch.int64)
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"}, "logits": {0: "batch_size", 1: "sequence_length"}}
    errors = []
    for kind in (["torchscript", "dynamo"] if exporter == "auto" else [exporter]):
        try:
            if kind == "torchscript":
                torch.onnx.export(model, (ids,), path, input_names=["input_ids"], output_names=["logits"],
                                  dynamic_axes=axes, opset_version=18, do_constant_folding=True, dynamo=False)
            else:
                torch.onnx.export(model, (ids,), path, input_names=["input_ids"], output_names=["logits"],
                                  dynamic_axes=axes, opset_version=18, dynamo=True, external_data=False)
            print(f"exported with the {kind} exporter")
            return kind
        except Exception as e:  # noqa: BLE001 - the next exporter may do
            errors.append(f"{kind}: {type(e).__name__}: {e}")
            print(f"the {kind} exporter failed: {errors[-1][:2000]}", file=sys.stderr)
    sys.exit("no exporter worked:\n" + "\n".join(errors))


def optimum_names(mp, params, np, onnx, numpy_helper):
    """Names each MatMul whose B is a parameter (or its transpose, or a
    Transpose node of one) "/<module path>/MatMul", with B an initializer
    holding W^T, as the TorchScript exporter leaves them. Returns how many
    such MatMuls there are."""
    g = mp.graph
    inits = {t.name: t for t in g.initializer}
    producers = {o: n for n in g.node for o in n.output}
    by_shape = {}
    for name, w in params.items():
        if w.ndim == 2:
            by_shape.setdefault(w.shape, []).append((name, w))
    n_linear = 0
    for node in g.node:
        if node.op_type != "MatMul" or len(node.input) != 2:
            continue
        b = node.input[1]
        arr = None
        if b in inits:
            arr = numpy_helper.to_array(inits[b])
        elif b in producers and producers[b].op_type == "Transpose" and producers[b].input[0] in inits:
            t = numpy_helper.to_array(inits[producers[b].input[0]])
            arr = t.T if t.ndim == 2 else None
        if arr is None or arr.ndim != 2:
            continue
        found = [name for name, w in by_shape.get(arr.T.shape, []) if np.array_equal(w, arr.T)]
        if not found:
            continue
        mod = found[0][: -len(".weight")]
        # "model.layers.0.mlp.up_proj" -> "/model/layers.0/mlp/up_proj/MatMul", a ModuleList's index kept
        node.name = re.sub(r"/(\d+)(?=/|$)", r".\1", "/" + mod.replace(".", "/")) + "/MatMul"
        if b not in inits:
            t = numpy_helper.from_array(np.ascontiguousarray(arr), f"onnx::MatMul_{mod}")
            g.initializer.append(t)
            node.input[1] = t.name
        n_linear += 1
    return n_linear


def main():
    args = parse()
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    from onnx import numpy_helper
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(args.in_dir, torch_dtype=torch.float32, attn_implementation="eager")
    model.eval()
    model.config.use_cache = False
    forward = model.forward

    # The export's one input and one output; the module tree (and so
    # Optimum's node names) stays the model's own.
    def logits_only(input_ids):
        return forward(input_ids=input_ids, use_cache=False, return_dict=True).logits

    model.forward = logits_only
    params = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    n_linear_model = sum(1 for m in model.modules() if isinstance(m, torch.nn.Linear))

    os.makedirs(os.path.join(args.out_dir, "onnx"), exist_ok=True)
    tmp = os.path.join(args.out_dir, "onnx", "model_float.tmp.onnx")
    export(model, tmp, args.exporter, torch)
    mp = onnx.load(tmp)
    os.remove(tmp)
    if os.path.exists(tmp + ".data"):
        os.remove(tmp + ".data")
    n_linear = optimum_names(mp, params, np, onnx, numpy_helper)
    print(f"{n_linear} MatMul nodes with a parameter as weight (the model has {n_linear_model} Linear layers)")
    if n_linear != n_linear_model:
        sys.exit(f"expected every Linear layer as a MatMul on a weight; found {n_linear} of {n_linear_model}")

    tests = [np.array([[1, 5, 9, 200, 17, 3, 44]], dtype=np.int64),
             np.array([[1, 300, 2, 7, 7, 7, 99, 12, 13, 400, 5, 6, 8]], dtype=np.int64),
             np.array([[1]], dtype=np.int64)]

    def run(m, ids):
        s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        return s.run(["logits"], {"input_ids": ids})[0]

    # The float export is the model at every length (the axes are dynamic).
    for ids in tests:
        with torch.no_grad():
            ref = model(torch.from_numpy(ids)).numpy()
        got = run(mp, ids)
        d = float(np.abs(got - ref).max())
        print(f"float ONNX vs torch, {ids.shape[1]} tokens: max |diff| {d:.3g}")
        if got.shape != ref.shape or d > 1e-4 * max(1.0, float(np.abs(ref).max())):
            sys.exit("the float export does not compute the model")

    def quantize(gather):
        m = onnx.ModelProto()
        m.CopyFrom(mp)
        ops = ("MatMul", "Gather") if gather else ("MatMul",)
        q = MatMulNBitsQuantizer(m, block_size=32, is_symmetric=not args.asymmetric, accuracy_level=None,
                                 op_types_to_quantize=ops, quant_axes=(("MatMul", 0), ("Gather", 1)))
        q.process()
        return q.model.model

    qm = quantize(not args.no_gather)
    try:
        run(qm, tests[0])
    except Exception as e:  # noqa: BLE001
        if args.no_gather:
            raise
        print(f"onnxruntime cannot run the model with a quantized Gather ({e}); quantizing MatMul only",
              file=sys.stderr)
        qm = quantize(False)
    ops = {}
    for n in qm.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print("ops:", ", ".join(f"{k} {v}" for k, v in sorted(ops.items())))
    left = [n.name for n in qm.graph.node if n.op_type == "MatMul" and n.input[1] in {t.name for t in qm.graph.initializer}]
    if ops.get("MatMulNBits", 0) != n_linear or left:
        sys.exit(f"{ops.get('MatMulNBits', 0)} MatMulNBits for {n_linear} Linear layers; left in float: {left}")
    for n in qm.graph.node:
        if n.op_type in ("MatMulNBits", "GatherBlockQuantized"):
            print(f"  {n.op_type} {n.name}: {list(n.input)}")
    for ids in tests:
        with torch.no_grad():
            ref = model(torch.from_numpy(ids)).numpy()
        got = run(qm, ids)
        print(f"q4 ONNX vs torch, {ids.shape[1]} tokens: max |diff| {float(np.abs(got - ref).max()):.3g} "
              f"(logits span {float(ref.max() - ref.min()):.3g})")
        if got.shape != ref.shape or not np.isfinite(got).all():
            sys.exit("the q4 model gives no finite logits of the right shape")

    out = os.path.join(args.out_dir, "onnx", "model_q4.onnx")
    for f in [out, out + "_data"]:
        if os.path.exists(f):
            os.remove(f)
    if args.external_data:
        # Small constants stay inline: onnxruntime's shape inference reads
        # them (ReduceMean's axes) before external data is loaded.
        onnx.save_model(qm, out, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="model_q4.onnx_data", size_threshold=256)
        os.chmod(out + "_data", 0o644)
    else:
        onnx.save_model(qm, out)
    s = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    s.run(["logits"], {"input_ids": tests[0]})
    for f in COPY:
        if os.path.isfile(os.path.join(args.in_dir, f)):
            shutil.copyfile(os.path.join(args.in_dir, f), os.path.join(args.out_dir, f))
    size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(args.out_dir) for f in fs)
    print(f"wrote {args.out_dir} ({size} bytes)")


if __name__ == "__main__":
    main()
