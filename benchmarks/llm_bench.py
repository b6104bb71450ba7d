"""Language-model generation speed: prefill and decode tokens/s at batch 1 and 8 for a Llama-shaped model
with random weights (default about 1.1B parameters: hidden 2048, 16 layers, 32 query / 8 kv heads,
intermediate 8192, vocab 32000), TensorLogic beside `transformers` (PyTorch eager; f16 on a GPU, float32
on the CPU, where PyTorch has no fast f16) and, on the CPU, llama.cpp (`llama-cpp-python`), all in one
process on one f16 GGUF file (written once under --workdir; the peers get exactly the weights ours loads).

    python benchmarks/llm_bench.py --device cpu [--small]
    python benchmarks/llm_bench.py --device cuda
    python benchmarks/llm_bench.py --device cuda --profile   # where one prefill and one decode step go

Decoding is greedy in every engine, one token read back per step (as a streaming generator does).
transformers and llama-cpp-python are optional: a missing peer is recorded as such."""
import argparse
import ctypes
import datetime
import os
import sys
import time

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, TokenType
from gguf.quants import quantize

import tensorlogic as tl
from tensorlogic import models

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import write_results  # noqa: E402

try:
    import torch
    import transformers
except ImportError:  # the peer is optional (a GPU machine may lack it)
    torch = transformers = None
try:
    import llama_cpp
except ImportError:
    llama_cpp = None

SIZES = {  # hidden, layers, heads, kv heads, intermediate, vocab
    "1b": (2048, 16, 32, 8, 8192, 32000),
    "small": (768, 8, 12, 4, 2048, 32000),
}


def write_gguf(path, size, seed=0, qtype=GGMLQuantizationType.F16):
    """A llama-architecture GGUF of random weights (q and k rows in llama.cpp's order), with a
    sentencepiece-style vocabulary of placeholder pieces that llama.cpp accepts. The matrices are f16, or
    quantised to `qtype` by gguf's own code (Q8_0, Q4_0: the types it can write) from the same f16 values."""
    hidden, layers, heads, kv, inter, vocab = SIZES[size]
    head_dim = hidden // heads
    rng = np.random.default_rng(seed)
    w = GGUFWriter(path, "llama")
    w.add_context_length(4096)
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(inter)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(500000.0)
    w.add_rope_dimension_count(head_dim)
    w.add_file_type({GGMLQuantizationType.F16: 1, GGMLQuantizationType.Q8_0: 7, GGMLQuantizationType.Q4_0: 2}[qtype])
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"▁p{i}" for i in range(vocab - len(tokens))]
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * 3 + [0.0] * 256 + [-float(i) for i in range(vocab - 259)])
    w.add_token_types([TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL] + [TokenType.BYTE] * 256 +
                      [TokenType.NORMAL] * (vocab - 259))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    def weight(rows, cols):
        return stored((rng.standard_normal((rows, cols), dtype=np.float32) * (0.5 / np.sqrt(cols))).astype(np.float16))

    def stored(w16):
        if qtype == GGMLQuantizationType.F16:
            return w16
        return quantize(w16.astype(np.float32), qtype)

    def norm():
        return (1 + 0.1 * rng.standard_normal(hidden, dtype=np.float32)).astype(np.float32)

    raw = None if qtype == GGMLQuantizationType.F16 else qtype
    w.add_tensor("token_embd.weight", stored(rng.standard_normal((vocab, hidden), dtype=np.float32).astype(np.float16)),
                 raw_dtype=raw)
    for i in range(layers):
        w.add_tensor(f"blk.{i}.attn_norm.weight", norm())
        w.add_tensor(f"blk.{i}.attn_q.weight", weight(heads * head_dim, hidden), raw_dtype=raw)
        w.add_tensor(f"blk.{i}.attn_k.weight", weight(kv * head_dim, hidden), raw_dtype=raw)
        w.add_tensor(f"blk.{i}.attn_v.weight", weight(kv * head_dim, hidden), raw_dtype=raw)
        w.add_tensor(f"blk.{i}.attn_output.weight", weight(hidden, heads * head_dim), raw_dtype=raw)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", norm())
        w.add_tensor(f"blk.{i}.ffn_gate.weight", weight(inter, hidden), raw_dtype=raw)
        w.add_tensor(f"blk.{i}.ffn_up.weight", weight(inter, hidden), raw_dtype=raw)
        w.add_tensor(f"blk.{i}.ffn_down.weight", weight(hidden, inter), raw_dtype=raw)
    w.add_tensor("output_norm.weight", norm())
    w.add_tensor("output.weight", weight(vocab, hidden), raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def quantised(path):
    """The GGUF at `path` quantised by llama.cpp to Q4_K_M (written once beside it)."""
    out = path.replace("_f16.gguf", "_q4_k_m.gguf")
    if not os.path.exists(out):
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
        if llama_cpp.llama_model_quantize(path.encode(), (out + ".part").encode(), ctypes.byref(params)) != 0:
            raise RuntimeError(f"llama.cpp could not quantise {path}")
        os.replace(out + ".part", out)
    return out


# ---- the engines: each returns (prefill seconds, decode seconds, decode steps) for prompts [B, P]
def run_ours(model, prompts, new_tokens):
    r = models.generate(model, prompts.tolist(), new_tokens)
    return r.prefill_seconds, r.decode_seconds, r.decode_steps


def torch_model(model, device):
    """transformers' LlamaForCausalLM holding our model's weights (f16 on a GPU, float32 on the CPU)."""
    c = model.config
    config = transformers.LlamaConfig(vocab_size=c.vocab_size, hidden_size=c.hidden_size,
                                      intermediate_size=c.intermediate_size, num_hidden_layers=c.num_layers,
                                      num_attention_heads=c.num_heads, num_key_value_heads=c.num_kv_heads,
                                      rms_norm_eps=c.norm_eps, rope_theta=c.rope_theta, tie_word_embeddings=False,
                                      max_position_embeddings=c.max_positions)
    dtype = torch.float16 if device == "cuda" else torch.float32

    def t(x):
        return torch.from_numpy(np.ascontiguousarray(x.cpu().numpy())).to(device=device, dtype=dtype)

    q, kv = c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
    state = {"model.embed_tokens.weight": t(model.embed), "model.norm.weight": t(model.norm_weight),
             "lm_head.weight": t(model.lm_head)}
    for i, layer in enumerate(model.layers):
        p = f"model.layers.{i}."
        qkv = t(layer.qkv_weight)
        state.update({p + "self_attn.q_proj.weight": qkv[:q], p + "self_attn.k_proj.weight": qkv[q:q + kv],
                      p + "self_attn.v_proj.weight": qkv[q + kv:], p + "self_attn.o_proj.weight": t(layer.o_weight),
                      p + "input_layernorm.weight": t(layer.attn_norm_weight),
                      p + "post_attention_layernorm.weight": t(layer.mlp_norm_weight),
                      p + "mlp.gate_proj.weight": t(layer.gate_weight), p + "mlp.up_proj.weight": t(layer.up_weight),
                      p + "mlp.down_proj.weight": t(layer.down_weight)})
    with torch.device("meta"):
        peer = transformers.LlamaForCausalLM(config)
    peer.load_state_dict(state, assign=True)
    with torch.device(device):  # its buffers were made on meta
        peer.model.rotary_emb = type(peer.model.rotary_emb)(config)
    return peer.eval()  # transformers' default attention (PyTorch's scaled_dot_product_attention)


def run_torch(peer, prompts, new_tokens, device):
    ids = torch.as_tensor(prompts, device=device)
    with torch.inference_mode():
        start = time.perf_counter()
        out = peer(ids, use_cache=True, logits_to_keep=1)
        token = out.logits[:, -1].argmax(-1)
        token.tolist()
        prefill = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(new_tokens - 1):
            out = peer(token[:, None], past_key_values=out.past_key_values, use_cache=True)
            token = out.logits[:, -1].argmax(-1)
            token.tolist()
        return prefill, time.perf_counter() - start, new_tokens - 1


def _llama_cpp_argmax(llm):
    """Greedy pick from the logits of the last evaluated token (llama-cpp-python keeps `scores` only with
    logits_all, which would also compute the prompt's logits)."""
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
    return int(np.argmax(logits))


def run_llama_cpp(llm, prompts, new_tokens):
    llm.reset()
    start = time.perf_counter()
    llm.eval(prompts[0].tolist())
    token = _llama_cpp_argmax(llm)
    prefill = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(new_tokens - 1):
        llm.eval([token])
        token = _llama_cpp_argmax(llm)
    return prefill, time.perf_counter() - start, new_tokens - 1


def best(fn, repeat, batch, prompt_len):
    """Tokens/s of the fastest prefill and the fastest decode over `repeat` runs (the least disturbed
    ones on a shared machine)."""
    runs = [fn() for _ in range(repeat)]
    return {"prefill_tokens_per_s": batch * prompt_len / min(r[0] for r in runs),
            "decode_tokens_per_s": batch / min(r[1] / r[2] for r in runs)}


def profile(model, prompt_len, device):
    """Prints tl.profiler's tables (device time per op on a GPU) of one batch-1 prefill of prompt_len tokens
    and one decoding step, after a warm-up of the same shapes (so first-call costs are left out)."""
    activities = [tl.profiler.ProfilerActivity.CPU] + ([tl.profiler.ProfilerActivity.CUDA] if device == "cuda" else [])
    ids = np.arange(300, 300 + prompt_len, dtype=np.int32).reshape(1, prompt_len)
    positions = models.decoder.positions_for([0], prompt_len)
    sort = "self_device_time_total" if device == "cuda" else "self_cpu_time_total"
    with tl.no_grad():
        for timed in (False, True):
            cache = models.KVCache(model.config, 1, prompt_len + 1, device)
            for phase, tokens, pos in (("prefill", ids, positions), ("decode step", ids[:, -1:], positions[:, -1:] + 1)):
                x, p = tl.tensor(tokens, device=device), tl.tensor(pos, device=device)
                start = time.perf_counter()
                with tl.profiler.profile(activities=activities) as prof:
                    model(x, cache, p, last_only=True).numpy()
                wall = time.perf_counter() - start
                if timed:
                    kernels = sum(1 for e in prof.events() if e.name.startswith("tl::"))
                    print(f"\n== {phase} (batch 1, {tokens.shape[1]} tokens): {wall * 1e3:.2f} ms under the profiler, "
                          f"{kernels} native calls ({kernels / model.config.num_layers:.1f} per layer)")
                    print(prof.key_averages().table(sort_by=sort, row_limit=25))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda" if tl.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    ap.add_argument("--small", action="store_true", help="a ~0.1B model (hidden 768, 8 layers) for a quick run")
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--repeat", type=int, default=2, help="runs per engine and batch; the best is kept")
    ap.add_argument("--workdir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "tl_llm_bench"))
    ap.add_argument("--no-peers", action="store_true", help="time TensorLogic alone")
    ap.add_argument("--profile", action="store_true", help="print where one prefill and one decode step go; no timing")
    args = ap.parse_args()

    size = "small" if args.small else "1b"
    os.makedirs(args.workdir, exist_ok=True)
    path = os.path.join(args.workdir, f"llama_{size}_f16.gguf")
    if not os.path.exists(path):
        print(f"writing {path} ...", flush=True)
        write_gguf(path + ".part", size)
        os.replace(path + ".part", path)
    tl.set_default_device(args.device)
    model = models.load_model(path, args.device)
    params = sum(p.numel() for p in model.parameters())
    print(f"{size}: {params / 1e9:.2f}B parameters on {args.device}", flush=True)
    if args.profile:
        profile(model, args.prompt_len, args.device)
        return
    peers = {}
    notes = []
    if not args.no_peers:
        if transformers is None:
            notes.append("transformers/torch not installed: no transformers peer")
        else:
            torch.set_num_threads(os.cpu_count())
            peers["transformers"] = (torch_model(model, args.device),)
            notes.append(f"transformers {transformers.__version__}, PyTorch {torch.__version__} eager (no compile, "
                         f"no CUDA graphs), attention '{peers['transformers'][0].config._attn_implementation}', " +
                         ("float16" if args.device == "cuda" else "float32 (PyTorch has no fast float16 on the CPU)"))
        if args.device == "cpu":
            if llama_cpp is None:
                notes.append("llama-cpp-python not installed: no llama.cpp peer")
            else:
                # The Q4_K_M file takes its prompt one token at a time: llama.cpp 0.3.36 crashed (SIGSEGV)
                # evaluating several of its tokens at once on an AMX-capable Xeon (2026-12-05).
                for label, file, n_batch in (("llama.cpp", path, args.prompt_len),
                                             ("llama.cpp Q4_K_M", quantised(path), 1)):
                    peers[label] = (llama_cpp.Llama(model_path=file, n_ctx=args.prompt_len + args.new_tokens + 8,
                                                    n_batch=n_batch, n_threads=os.cpu_count(), verbose=False),)
                notes.append(f"llama.cpp {getattr(llama_cpp, '__version__', '?')}: batch 1 only (one sequence); "
                             "'llama.cpp Q4_K_M' runs the same weights quantised by llama.cpp, to measure what "
                             "keeping weights quantised would buy (ours runs the f16 file here; llm_quant_bench.py times "
                             "ours on quantised files); its prompt goes in "
                             "one token at a time, so its prefill figure is not comparable")
    load_before = os.getloadavg()
    rng = np.random.default_rng(1)
    rows = []
    for batch in args.batches:
        prompts = rng.integers(300, model.config.vocab_size, (batch, args.prompt_len))
        engines = {"tensorlogic": lambda p, n: run_ours(model, p, n)}
        if "transformers" in peers:
            engines["transformers"] = lambda p, n: run_torch(peers["transformers"][0], p, n, args.device)
        for label in ("llama.cpp", "llama.cpp Q4_K_M"):
            if label in peers and batch == 1:
                engines[label] = lambda p, n, llm=peers[label][0]: run_llama_cpp(llm, p, n)
        row = {"batch": batch, "prompt_len": args.prompt_len, "new_tokens": args.new_tokens}
        for name, fn in engines.items():
            fn(prompts[:, :16], 4)  # warm-up: kernels, caches, thread pools
            row[name] = best(lambda: fn(prompts, args.new_tokens), args.repeat, batch, args.prompt_len)
            print(f"batch {batch} {name:12s} prefill {row[name]['prefill_tokens_per_s']:9.1f} tok/s   "
                  f"decode {row[name]['decode_tokens_per_s']:8.2f} tok/s", flush=True)
        for name in engines:
            if name != "tensorlogic":
                row[f"ratio_vs_{name}"] = {k: row["tensorlogic"][k] / row[name][k] for k in row["tensorlogic"]}
        rows.append(row)
    notes.append(f"load average (1, 5, 15 min) before: {load_before}, after: {os.getloadavg()} on "
                 f"{os.cpu_count()} cores (other processes share the machine)")
    gpu = tl.cuda.get_device_name(0).replace(" ", "_") if args.device == "cuda" else None
    name = f"llm_{args.device}_{size}" + (f"_{gpu}" if gpu else "") + \
        f"_{datetime.date.today().isoformat()}"
    out = write_results(name, rows, {"model": {"size": size, "parameters": params, "gguf": os.path.basename(path)},
                                     "notes": notes})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
