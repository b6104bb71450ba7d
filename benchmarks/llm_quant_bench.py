"""Quantised GGUF weights kept quantised (dequantised inside the product kernels of the CPU or CUDA) against
dequantised to f16 on load: prefill and decode tokens/s at batch 1 and 8 and memory, for the ~1B Llama-shaped model
of llm_bench.py (random weights, the same f16 values) stored as Q8_0 and Q4_0 (written by gguf's quantiser)
and, where llm_bench.py left it, as llama.cpp's Q4_K_M (Q4_K with some Q6_K).

Both loads of one file live in one process and are timed alternately, run after run (the machine is
shared); the best of --repeat runs is kept, every run is recorded. On the CPU memory is measured in a fresh
process per load: VmRSS after loading and a short generation, and the peak VmHWM; on CUDA the bytes of the
weights as held.

    python benchmarks/llm_quant_bench.py [--device cpu|cuda] [--small] [--types Q8_0 Q4_0 Q4_K_M]"""
import argparse
import datetime
import json
import os
import subprocess
import sys

import numpy as np
from gguf import GGMLQuantizationType

import tensorlogic as tl
from tensorlogic import models
from tensorlogic.ops.quantized import QuantizedWeight

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import write_results  # noqa: E402
from llm_bench import run_ours, write_gguf  # noqa: E402

MODES = {"kept": True, "dequantised": False}


def gguf_path(workdir, size, name):
    """The model file of one storage type, written once under workdir (Q4_K_M only if llm_bench.py made it)."""
    path = os.path.join(workdir, f"llama_{size}_{name.lower()}.gguf")
    if not os.path.exists(path) and name in ("Q8_0", "Q4_0"):
        print(f"writing {path} ...", flush=True)
        write_gguf(path + ".part", size, qtype=GGMLQuantizationType[name])
        os.replace(path + ".part", path)
    return path if os.path.exists(path) else None


def weight_bytes(model):
    """Bytes of the model's weights as held: f16 tensors and quantised blocks."""
    total = sum(p.numel() * 2 for p in model.parameters())
    for module in model.modules():
        total += sum(v.nbytes for v in vars(module).values() if isinstance(v, QuantizedWeight))
    return total


def memory(path, keep, prompt_len):
    """Run in a fresh process: resident memory after loading `path` and generating a few tokens."""
    model = models.load_model(path, "cpu", keep_quantized=keep)
    models.generate(model, [list(range(300, 300 + prompt_len))], 4)
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    kib = {k: int(status[k].split()[0]) for k in ("VmRSS", "VmHWM", "RssAnon", "RssFile")}
    return {"weights_MiB": weight_bytes(model) / 2**20, **{f"{k}_MiB": v / 1024 for k, v in kib.items()}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--small", action="store_true", help="the ~0.1B model of llm_bench.py, for a quick run")
    ap.add_argument("--types", nargs="+", default=["Q8_0", "Q4_0", "Q4_K_M"])
    ap.add_argument("--prompt-len", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=16)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "tl_llm_bench"))
    ap.add_argument("--memory", nargs=2, metavar=("PATH", "KEEP"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory:
        print(json.dumps(memory(args.memory[0], args.memory[1] == "1", args.prompt_len)))
        return

    size = "small" if args.small else "1b"
    os.makedirs(args.workdir, exist_ok=True)
    tl.set_default_device(args.device)
    rng = np.random.default_rng(1)
    load_before = os.getloadavg()
    rows = []
    for name in args.types:
        path = gguf_path(args.workdir, size, name)
        if path is None:
            print(f"{name}: no file (llm_bench.py writes the Q4_K_M one with llama-cpp-python)", flush=True)
            continue
        row = {"storage": name, "file_MiB": os.path.getsize(path) / 2**20}
        loaded = {mode: models.load_model(path, args.device, keep_quantized=keep) for mode, keep in MODES.items()}
        for mode, keep in MODES.items():
            if args.device == "cpu":
                run = subprocess.run([sys.executable, __file__, "--memory", path, str(int(keep)), "--prompt-len",
                                      str(args.prompt_len)], capture_output=True, text=True, check=True)
                row[f"memory_{mode}"] = json.loads(run.stdout)
            else:
                row[f"memory_{mode}"] = {"weights_MiB": weight_bytes(loaded[mode]) / 2**20}
        for batch in args.batches:
            prompts = rng.integers(300, loaded["kept"].config.vocab_size, (batch, args.prompt_len))
            runs = {mode: [] for mode in MODES}
            for mode in MODES:
                run_ours(loaded[mode], prompts[:, :8], 2)  # warm-up
            for _ in range(args.repeat):
                for mode in MODES:  # alternating, so that both see the same load
                    runs[mode].append(run_ours(loaded[mode], prompts, args.new_tokens))
            for mode, rs in runs.items():
                row[f"batch{batch}_{mode}"] = {
                    "prefill_tokens_per_s": batch * args.prompt_len / min(r[0] for r in rs),
                    "decode_tokens_per_s": batch / min(r[1] / r[2] for r in rs),
                    "decode_tokens_per_s_runs": [batch * r[2] / r[1] for r in rs]}
            kept, deq = row[f"batch{batch}_kept"], row[f"batch{batch}_dequantised"]
            row[f"batch{batch}_kept_over_dequantised"] = {k: kept[k] / deq[k] for k in
                                                          ("prefill_tokens_per_s", "decode_tokens_per_s")}
            print(f"{name} batch {batch}: decode kept {kept['decode_tokens_per_s']:.2f} tok/s, dequantised "
                  f"{deq['decode_tokens_per_s']:.2f} tok/s; prefill kept {kept['prefill_tokens_per_s']:.1f}, "
                  f"dequantised {deq['prefill_tokens_per_s']:.1f} tok/s", flush=True)
        print(f"{name} memory: kept {row['memory_kept']}, dequantised {row['memory_dequantised']}", flush=True)
        rows.append(row)
        del loaded
    notes = [f"prompt {args.prompt_len} tokens, {args.new_tokens} new tokens, greedy; best of {args.repeat} "
             "alternating runs per mode",
             f"load average (1, 5, 15 min) before: {load_before}, after: {os.getloadavg()} on {os.cpu_count()} cores "
             "(other processes share the machine)"]
    gpu = "_" + tl.cuda.get_device_name(0).replace(" ", "_") if args.device == "cuda" else ""
    out = write_results(f"llm_{args.device}_{size}_quantized{gpu}_{datetime.date.today().isoformat()}", rows,
                        {"model": {"size": size}, "device": args.device, "notes": notes})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
