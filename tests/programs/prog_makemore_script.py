"""makemore.py's script around its models (prog_makemore.py): argparse's defaults, create_datasets from a text file
of names split by torch.randperm(...).tolist(), a SummaryWriter (torch.utils.tensorboard's) logging the evaluated
losses, the infinite random-sampling loader with worker processes asked for (num_workers=4), the training loop with
its timing and logging, the best model saved with torch.save(model.state_dict()) and reloaded with --resume and
--sample-only, and print_samples: generate() with top_k and torch.multinomial (or greedy through topk), rows cropped
at the first 0 and sorted into train, test and new words. Written against a module `torch`. Shrunk: tiny widths,
synthetic names, evaluation every 20 steps."""
import argparse
import importlib
import os
import sys
import time

import prog_makemore


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Make More")
    parser.add_argument("--input-file", "-i", type=str, default="names.txt")
    parser.add_argument("--work-dir", "-o", type=str, default="out")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--sample-only", action="store_true")
    parser.add_argument("--num-workers", "-n", type=int, default=4)
    parser.add_argument("--max-steps", type=int, default=-1)
    parser.add_argument("--device", type=str, default="cpu")
    parser.add_argument("--seed", type=int, default=3407)
    parser.add_argument("--top-k", type=int, default=-1)
    parser.add_argument("--type", type=str, default="transformer")
    parser.add_argument("--n-layer", type=int, default=2)
    parser.add_argument("--n-head", type=int, default=2)
    parser.add_argument("--n-embd", type=int, default=16)
    parser.add_argument("--n-embd2", type=int, default=16)
    parser.add_argument("--batch-size", "-b", type=int, default=32)
    parser.add_argument("--learning-rate", "-l", type=float, default=5e-3)
    parser.add_argument("--weight-decay", "-w", type=float, default=0.01)
    return parser.parse_args(argv)


def create_datasets(torch, input_file):
    with open(input_file, "r") as f:
        data = f.read()
    words = data.splitlines()
    words = [w.strip() for w in words]
    words = [w for w in words if w]
    chars = sorted(list(set("".join(words))))
    max_word_length = max(len(w) for w in words)
    test_set_size = min(1000, int(len(words) * 0.1))
    rp = torch.randperm(len(words)).tolist()
    train_words = [words[i] for i in rp[:-test_set_size]]
    test_words = [words[i] for i in rp[-test_set_size:]]
    CharDataset = prog_makemore.char_dataset(torch)
    return CharDataset(train_words, chars, max_word_length), CharDataset(test_words, chars, max_word_length)


def generate(torch, model, idx, max_new_tokens, temperature=1.0, do_sample=False, top_k=None):
    """makemore's generate: block_size-cropped context, the last position's logits, optional top-k, then sampled or
    greedy."""
    F = torch.nn.functional

    @torch.no_grad()
    def run(idx):
        block_size = model.block_size
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= block_size else idx[:, -block_size:]
            logits, _ = model(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, top_k)
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            if do_sample:
                idx_next = torch.multinomial(probs, num_samples=1)
            else:
                _, idx_next = torch.topk(probs, k=1, dim=-1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx

    return run(idx)


def main(torch, argv, summary_writer=None, log=None):
    """makemore.py's __main__ with `argv` for its command line; `summary_writer` replaces the SummaryWriter class
    (torch.utils.tensorboard's by default). Returns the model, the step losses, the (step, train, test) evaluations
    and the samples printed, as (train, test, new) word lists."""
    log = [] if log is None else log
    SummaryWriter = summary_writer or importlib.import_module(torch.__name__ + ".utils.tensorboard").SummaryWriter
    args = parse_args(argv)
    log.append(str(vars(args)))
    torch.manual_seed(args.seed)
    torch.cuda.manual_seed_all(args.seed)
    os.makedirs(args.work_dir, exist_ok=True)
    writer = SummaryWriter(log_dir=args.work_dir)
    train_dataset, test_dataset = create_datasets(torch, args.input_file)
    vocab_size = train_dataset.get_vocab_size()
    block_size = train_dataset.get_output_length()
    log.append(f"dataset determined that: {vocab_size=}, {block_size=}")
    config = prog_makemore.ModelConfig(block_size, vocab_size, n_layer=args.n_layer, n_head=args.n_head,
                                       n_embd=args.n_embd, n_embd2=args.n_embd2)
    model = prog_makemore.build(torch, args.type, config)
    model.to(args.device)
    log.append(f"model #params: {sum(p.numel() for p in model.parameters())}")
    samples = []

    def print_samples(num=10):
        X_init = torch.zeros(num, 1, dtype=torch.long).to(args.device)
        top_k = args.top_k if args.top_k != -1 else None
        steps = train_dataset.get_output_length() - 1
        X_samp = generate(torch, model, X_init, steps, top_k=top_k, do_sample=True).to("cpu")
        train_samples, test_samples, new_samples = [], [], []
        for i in range(X_samp.size(0)):
            row = X_samp[i, 1:].tolist()
            crop_index = row.index(0) if 0 in row else len(row)
            row = row[:crop_index]
            word_samp = train_dataset.decode(row)
            if train_dataset.contains(word_samp):
                train_samples.append(word_samp)
            elif test_dataset.contains(word_samp):
                test_samples.append(word_samp)
            else:
                new_samples.append(word_samp)
        for lst, desc in [(train_samples, "in train"), (test_samples, "in test"), (new_samples, "new")]:
            log.append(f"{len(lst)} samples that are {desc}:")
            log.extend(lst)
        samples.append((train_samples, test_samples, new_samples))

    if args.resume or args.sample_only:
        log.append("resuming from existing model in the workdir")
        model.load_state_dict(torch.load(os.path.join(args.work_dir, "model.pt")))
    if args.sample_only:
        print_samples(num=50)
        return model, [], [], samples

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=args.weight_decay,
                                  betas=(0.9, 0.99), eps=1e-8)
    batch_loader = prog_makemore.infinite_data_loader(torch)(train_dataset, batch_size=args.batch_size,
                                                             pin_memory=True, num_workers=args.num_workers)
    best_loss = None
    step = 0
    losses, evaluations = [], []
    while True:
        t0 = time.time()
        batch = batch_loader.next()
        batch = [t.to(args.device) for t in batch]
        X, Y = batch
        logits, loss = model(X, Y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        t1 = time.time()
        losses.append(loss.item())
        if step % 10 == 0:
            log.append(f"step {step} | loss {loss.item():.4f} | step time {(t1 - t0) * 1000:.2f}ms")
        if step > 0 and step % 20 == 0:
            train_loss = prog_makemore.evaluate(torch, model, train_dataset, batch_size=100, max_batches=10)
            test_loss = prog_makemore.evaluate(torch, model, test_dataset, batch_size=100, max_batches=10)
            writer.add_scalar("Loss/train", train_loss, step)
            writer.add_scalar("Loss/test", test_loss, step)
            writer.flush()
            evaluations.append((step, train_loss, test_loss))
            log.append(f"step {step} train loss: {train_loss} test loss: {test_loss}")
            if best_loss is None or test_loss < best_loss:
                out_path = os.path.join(args.work_dir, "model.pt")
                log.append(f"test loss {test_loss} is the best so far, saving model to {out_path}")
                torch.save(model.state_dict(), out_path)
                best_loss = test_loss
        if step > 0 and step % 40 == 0:
            print_samples(num=10)
        step += 1
        if args.max_steps >= 0 and step >= args.max_steps:
            break
    writer.close()
    return model, losses, evaluations, samples


if __name__ == "__main__":
    main(importlib.import_module("torch"), sys.argv[1:])
