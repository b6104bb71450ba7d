"""nanoGPT's train.py and sample.py as scripts, around prog_gpt's model (model.py): token data prepared as
shakespeare_char's prepare.py writes it (train.bin and val.bin of uint16 by ndarray.tofile, meta.pkl with the
vocabulary), read back through a fresh np.memmap per batch and torch.from_numpy(...astype(np.int64)); get_batch
drawing its offsets with torch.randint; init_from 'resume' (torch.load with map_location, the '_orig_mod.' prefix a
compiled model leaves stripped, the model arguments forced from the checkpoint, the optimizer's state restored);
crop_block_size's model surgery; gradient accumulation under an autocast context (nullcontext on the CPU) and a
GradScaler; clipping; the learning rate with warmup and cosine decay set through param_group['lr']; estimate_loss
under @torch.no_grad() with eval()/train(), its tensors formatted with :.4f and compared with the best so far;
checkpoints of {'model', 'optimizer', 'model_args', 'iter_num', 'best_val_loss', 'config'} saved with torch.save;
estimate_mfu. Written against a module `torch`. Shrunk: 2 layers, 32 wide, block 16 cropped to 12."""
import math
import os
import pickle
import time
from contextlib import nullcontext

import numpy as np

import prog_gpt

UNWANTED_PREFIX = "_orig_mod."


def prepare(rng, data_dir, n=4000, vocab=40):
    """shakespeare_char's prepare.py over synthetic text with structure to learn in a few steps (each character
    mostly followed by its successor in a fixed shuffled order), encoded by its sorted vocabulary, 90% for training."""
    chars = [chr(ord("!") + i) for i in range(vocab)]
    successor = rng.permutation(vocab)
    ids = [int(rng.integers(vocab))]
    for _ in range(n - 1):
        ids.append(int(successor[ids[-1]]) if rng.random() < 0.8 else int(rng.integers(vocab)))
    text = "".join(chars[i] for i in ids)
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for i, ch in enumerate(chars)}
    train_ids = np.array([stoi[c] for c in text[: int(n * 0.9)]], dtype=np.uint16)
    val_ids = np.array([stoi[c] for c in text[int(n * 0.9):]], dtype=np.uint16)
    os.makedirs(data_dir, exist_ok=True)
    train_ids.tofile(os.path.join(data_dir, "train.bin"))
    val_ids.tofile(os.path.join(data_dir, "val.bin"))
    with open(os.path.join(data_dir, "meta.pkl"), "wb") as f:
        pickle.dump({"vocab_size": vocab, "itos": itos, "stoi": stoi}, f)


def crop_block_size(torch, model, block_size):
    """GPT.crop_block_size: model surgery to a smaller block size (as when a pretrained model is cropped)."""
    assert block_size <= model.config.block_size
    model.config.block_size = block_size
    model.transformer.wpe.weight = torch.nn.Parameter(model.transformer.wpe.weight[:block_size])
    for block in model.transformer.h:
        if hasattr(block.attn, "bias"):
            block.attn.bias = block.attn.bias[:, :, :block_size, :block_size]


def estimate_mfu(model, fwdbwd_per_iter, dt):
    """GPT.estimate_mfu: model flops utilization in units of an A100's bfloat16 peak."""
    N = model.get_num_params()
    cfg = model.config
    L, H, Q, T = cfg.n_layer, cfg.n_head, cfg.n_embd // cfg.n_head, cfg.block_size
    flops_per_token = 6 * N + 12 * L * H * Q * T
    flops_per_iter = flops_per_token * T * fwdbwd_per_iter
    return (flops_per_iter * (1.0 / dt)) / 312e12


def default_config(out_dir, data_dir):
    """train.py's globals, shrunk (the keys it saves in every checkpoint as 'config')."""
    return dict(out_dir=out_dir, eval_interval=5, log_interval=1, eval_iters=3, eval_only=False,
                always_save_checkpoint=True, init_from="scratch", data_dir=data_dir, gradient_accumulation_steps=2,
                batch_size=4, block_size=12, n_layer=2, n_head=2, n_embd=32, dropout=0.0, bias=False,
                learning_rate=1e-2, max_iters=12, weight_decay=1e-1, beta1=0.9, beta2=0.95, grad_clip=1.0,
                decay_lr=True, warmup_iters=3, lr_decay_iters=12, min_lr=1e-3, backend="nccl", device="cpu",
                dtype="float16", compile=False, seed_offset=0)


def train(torch, config, log=None):
    """train.py with `config` in place of its globals; returns the step losses (lossf), the learning rates, the
    estimate_loss results (floats) and the iteration the run started from."""
    c = dict(config)
    log = [] if log is None else log
    ddp = int(os.environ.get("RANK", -1)) != -1
    assert not ddp  # one process here; the names the script imports for DDP must still be there
    assert callable(torch.nn.parallel.DistributedDataParallel) and callable(torch.distributed.init_process_group)
    master_process, ddp_world_size = True, 1
    tokens_per_iter = c["gradient_accumulation_steps"] * ddp_world_size * c["batch_size"] * c["block_size"]
    log.append(f"tokens per iteration will be: {tokens_per_iter:,}")
    if master_process:
        os.makedirs(c["out_dir"], exist_ok=True)
    torch.manual_seed(1337 + c["seed_offset"])
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    device = c["device"]
    device_type = "cuda" if "cuda" in device else "cpu"
    ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[c["dtype"]]
    ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type=device_type, dtype=ptdtype)
    block_size, batch_size = c["block_size"], c["batch_size"]

    def get_batch(split):
        # a new np.memmap every batch, to avoid a memory leak (nanoGPT's note)
        name = "train.bin" if split == "train" else "val.bin"
        data = np.memmap(os.path.join(c["data_dir"], name), dtype=np.uint16, mode="r")
        ix = torch.randint(len(data) - block_size, (batch_size,))
        x = torch.stack([torch.from_numpy((data[i:i + block_size]).astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy((data[i + 1:i + 1 + block_size]).astype(np.int64)) for i in ix])
        if device_type == "cuda":
            x, y = x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
        else:
            x, y = x.to(device), y.to(device)
        return x, y

    iter_num = 0
    best_val_loss = 1e9
    meta_path = os.path.join(c["data_dir"], "meta.pkl")
    meta_vocab_size = None
    if os.path.exists(meta_path):
        with open(meta_path, "rb") as f:
            meta = pickle.load(f)
        meta_vocab_size = meta["vocab_size"]
    model_args = dict(n_layer=c["n_layer"], n_head=c["n_head"], n_embd=c["n_embd"], block_size=c["block_size"],
                      bias=c["bias"], vocab_size=None, dropout=c["dropout"])
    if c["init_from"] == "scratch":
        model_args["vocab_size"] = meta_vocab_size if meta_vocab_size is not None else 50304
        model = prog_gpt.build(torch, prog_gpt.GPTConfig(**model_args))
    elif c["init_from"] == "resume":
        ckpt_path = os.path.join(c["out_dir"], "ckpt.pt")
        checkpoint = torch.load(ckpt_path, map_location=device)
        checkpoint_model_args = checkpoint["model_args"]
        for k in ["n_layer", "n_head", "n_embd", "block_size", "bias", "vocab_size"]:
            model_args[k] = checkpoint_model_args[k]
        model = prog_gpt.build(torch, prog_gpt.GPTConfig(**model_args))
        state_dict = checkpoint["model"]
        for k, v in list(state_dict.items()):
            if k.startswith(UNWANTED_PREFIX):
                state_dict[k[len(UNWANTED_PREFIX):]] = state_dict.pop(k)
        model.load_state_dict(state_dict)
        iter_num = checkpoint["iter_num"]
        best_val_loss = checkpoint["best_val_loss"]
    if c["block_size"] < model.config.block_size:
        crop_block_size(torch, model, c["block_size"])
        model_args["block_size"] = c["block_size"]
    model.to(device)
    scaler = torch.cuda.amp.GradScaler(enabled=(c["dtype"] == "float16"))
    optimizer = model.configure_optimizers(c["weight_decay"], c["learning_rate"], (c["beta1"], c["beta2"]),
                                           device_type)
    if c["init_from"] == "resume":
        optimizer.load_state_dict(checkpoint["optimizer"])
    checkpoint = None
    if c["compile"]:
        model = torch.compile(model)

    @torch.no_grad()
    def estimate_loss():
        out = {}
        model.eval()
        for split in ["train", "val"]:
            losses = torch.zeros(c["eval_iters"])
            for k in range(c["eval_iters"]):
                X, Y = get_batch(split)
                with ctx:
                    logits, loss = model(X, Y)
                losses[k] = loss.item()
            out[split] = losses.mean()
        model.train()
        return out

    def get_lr(it):
        if it < c["warmup_iters"]:
            return c["learning_rate"] * (it + 1) / (c["warmup_iters"] + 1)
        if it > c["lr_decay_iters"]:
            return c["min_lr"]
        decay_ratio = (it - c["warmup_iters"]) / (c["lr_decay_iters"] - c["warmup_iters"])
        assert 0 <= decay_ratio <= 1
        coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
        return c["min_lr"] + coeff * (c["learning_rate"] - c["min_lr"])

    X, Y = get_batch("train")
    t0 = time.time()
    local_iter_num = 0
    raw_model = model._orig_mod if c["compile"] else model
    running_mfu = -1.0
    start_iter, step_losses, lrs, evals = iter_num, [], [], []
    while True:
        lr = get_lr(iter_num) if c["decay_lr"] else c["learning_rate"]
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        if iter_num % c["eval_interval"] == 0 and master_process:
            losses = estimate_loss()
            log.append(f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
            evals.append((float(losses["train"]), float(losses["val"])))
            if losses["val"] < best_val_loss or c["always_save_checkpoint"]:
                best_val_loss = losses["val"]
                if iter_num > start_iter:
                    checkpoint = {"model": raw_model.state_dict(), "optimizer": optimizer.state_dict(),
                                  "model_args": model_args, "iter_num": iter_num, "best_val_loss": best_val_loss,
                                  "config": c}
                    log.append(f"saving checkpoint to {c['out_dir']}")
                    torch.save(checkpoint, os.path.join(c["out_dir"], "ckpt.pt"))
        if iter_num == 0 and c["eval_only"]:
            break
        for micro_step in range(c["gradient_accumulation_steps"]):
            with ctx:
                logits, loss = model(X, Y)
                loss = loss / c["gradient_accumulation_steps"]
            X, Y = get_batch("train")
            scaler.scale(loss).backward()
        if c["grad_clip"] != 0.0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), c["grad_clip"])
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        t1 = time.time()
        dt, t0 = max(t1 - t0, 1e-6), t1
        if iter_num % c["log_interval"] == 0 and master_process:
            lossf = loss.item() * c["gradient_accumulation_steps"]
            if local_iter_num >= 5:
                mfu = estimate_mfu(raw_model, c["batch_size"] * c["gradient_accumulation_steps"], dt)
                running_mfu = mfu if running_mfu == -1.0 else 0.9 * running_mfu + 0.1 * mfu
            log.append(f"iter {iter_num}: loss {lossf:.4f}, time {dt * 1000:.2f}ms, mfu {running_mfu * 100:.2f}%")
            step_losses.append(lossf)
            lrs.append(lr)
        iter_num += 1
        local_iter_num += 1
        if iter_num > c["max_iters"]:
            break
    return step_losses, lrs, evals, start_iter


def write_checkpoint(torch, model, config, optimizer_from=None, prefix=UNWANTED_PREFIX):
    """What train.py saves, written before any step from `model`'s weights (its keys with a compiled model's
    '_orig_mod.' prefix), so that a run resumed from it starts from them."""
    c = config
    model_args = dict(n_layer=c["n_layer"], n_head=c["n_head"], n_embd=c["n_embd"],
                      block_size=model.config.block_size, bias=c["bias"], vocab_size=model.config.vocab_size,
                      dropout=c["dropout"])
    optimizer = model.configure_optimizers(c["weight_decay"], c["learning_rate"], (c["beta1"], c["beta2"]), "cpu")
    checkpoint = {"model": {prefix + k: v for k, v in model.state_dict().items()},
                  "optimizer": optimizer.state_dict(), "model_args": model_args, "iter_num": 0,
                  "best_val_loss": 1e9, "config": c}
    os.makedirs(c["out_dir"], exist_ok=True)
    torch.save(checkpoint, os.path.join(c["out_dir"], "ckpt.pt"))


def sample(torch, out_dir, data_dir, start="!", num_samples=2, max_new_tokens=20, temperature=0.8, top_k=200,
           seed=1337, device="cpu"):
    """sample.py: the model rebuilt from the checkpoint's arguments, decoded with meta.pkl's vocabulary."""
    torch.manual_seed(seed)
    device_type = "cuda" if "cuda" in device else "cpu"
    ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type=device_type, dtype=torch.float16)
    checkpoint = torch.load(os.path.join(out_dir, "ckpt.pt"), map_location=device)
    model = prog_gpt.build(torch, prog_gpt.GPTConfig(**checkpoint["model_args"]))
    state_dict = checkpoint["model"]
    for k, v in list(state_dict.items()):
        if k.startswith(UNWANTED_PREFIX):
            state_dict[k[len(UNWANTED_PREFIX):]] = state_dict.pop(k)
    model.load_state_dict(state_dict)
    model.eval()
    model.to(device)
    with open(os.path.join(data_dir, "meta.pkl"), "rb") as f:
        meta = pickle.load(f)
    stoi, itos = meta["stoi"], meta["itos"]
    encode = lambda s: [stoi[c] for c in s]
    decode = lambda l: "".join([itos[i] for i in l])
    x = (torch.tensor(encode(start), dtype=torch.long, device=device)[None, ...])
    samples = []
    with torch.no_grad():
        with ctx:
            for k in range(num_samples):
                y = model.generate(x, max_new_tokens, temperature=temperature, top_k=top_k)
                samples.append(decode(y[0].tolist()))
    return samples


def bench(torch, model, data_dir, log_dir, batch_size=4, block_size=12, device="cpu"):
    """bench.py's profiled run: 5 idle, 5 warm-up and 5 recorded steps of AdamW on real data, the trace written by
    tensorboard_trace_handler, FLOPs estimated. Returns the step losses and the profile."""
    device_type = "cuda" if "cuda" in device else "cpu"
    ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type=device_type, dtype=torch.bfloat16)
    train_data = np.memmap(os.path.join(data_dir, "train.bin"), dtype=np.uint16, mode="r")

    def get_batch(split):
        data = train_data
        ix = torch.randint(len(data) - block_size, (batch_size,))
        x = torch.stack([torch.from_numpy((data[i:i + block_size]).astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy((data[i + 1:i + 1 + block_size]).astype(np.int64)) for i in ix])
        return x.to(device), y.to(device)

    optimizer = model.configure_optimizers(weight_decay=1e-2, learning_rate=1e-4, betas=(0.9, 0.95),
                                           device_type=device_type)
    wait, warmup, active = 5, 5, 5
    num_steps = wait + warmup + active
    losses = []
    with torch.profiler.profile(
        activities=[torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA],
        schedule=torch.profiler.schedule(wait=wait, warmup=warmup, active=active, repeat=1),
        on_trace_ready=torch.profiler.tensorboard_trace_handler(log_dir),
        record_shapes=False,
        profile_memory=False,
        with_stack=False,
        with_flops=True,
        with_modules=False,
    ) as prof:
        X, Y = get_batch("train")
        for k in range(num_steps):
            with ctx:
                logits, loss = model(X, Y)
            X, Y = get_batch("train")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            prof.step()
    return losses, prof
