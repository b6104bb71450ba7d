"""minGPT's projects/adder as its users run it: adder.py's get_config (a CfgNode tree of system, data, model and
trainer nodes, overridden by --key=value arguments), set_seed and setup_logging (the config as JSON), the
AdditionDataset (a torch.Generator seeded 1337 permuting every pair of n-digit numbers into train and test, the sum's
digits reversed, the targets of the prompt masked with -1), mingpt/trainer.py's Trainer (its default config, the
device chosen by availability, a DataLoader over a RandomSampler drawing with replacement, callbacks added and
triggered, iter_num/iter_time/iter_dt, gradient clipping), and eval_split: greedy completion through
model.generate, the digits flipped and weighted by a tensor of powers of ten, the score printed with %d and %.2f of
tensors, the model saved when the test score improves. Written against a module `torch`; the model is
prog_mingpt's. Shrunk: 2-digit numbers, a 2-layer 24-wide GPT."""
import json
import os
import random
import time
from collections import defaultdict

import numpy as np

import prog_mingpt
from prog_mingpt import CfgNode as CN


def get_config(work_dir):
    C = CN()
    C.system = CN()
    C.system.seed = 3407
    C.system.work_dir = work_dir
    C.data = CN(ndigit=2)
    C.model = prog_mingpt.model_config()
    C.model.model_type = None
    C.trainer = trainer_default_config()
    C.trainer.learning_rate = 5e-3
    C.trainer.batch_size = 32
    C.trainer.max_iters = 60
    return C


def trainer_default_config():
    C = CN()
    C.device = "auto"
    C.num_workers = 4
    C.max_iters = None
    C.batch_size = 64
    C.learning_rate = 3e-4
    C.betas = (0.9, 0.95)
    C.weight_decay = 0.1
    C.grad_norm_clip = 1.0
    return C


def set_seed(torch, seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def setup_logging(config):
    work_dir = config.system.work_dir
    os.makedirs(work_dir, exist_ok=True)
    with open(os.path.join(work_dir, "config.json"), "w") as f:
        f.write(json.dumps(config.to_dict(), indent=4))


def addition_dataset(torch, config, split):
    class AdditionDataset(torch.utils.data.Dataset):
        def __init__(self, config, split):
            self.config = config
            self.split = split
            ndigit = self.config.ndigit
            assert ndigit <= 3, "the lines below would be very memory inefficient, in future maybe refactor to support"
            num = (10 ** ndigit) ** 2
            rng = torch.Generator()
            rng.manual_seed(1337)
            perm = torch.randperm(num, generator=rng)
            num_test = min(int(num * 0.2), 500)
            self.ixes = perm[:num_test] if split == "test" else perm[num_test:]

        def get_vocab_size(self):
            return 10

        def get_block_size(self):
            return 3 * self.config.ndigit + 1 - 1

        def __len__(self):
            return self.ixes.nelement()

        def __getitem__(self, idx):
            ndigit = self.config.ndigit
            idx = self.ixes[idx].item()
            nd = 10 ** ndigit
            a = idx // nd
            b = idx % nd
            c = a + b
            astr = f"%0{ndigit}d" % a
            bstr = f"%0{ndigit}d" % b
            cstr = (f"%0{ndigit + 1}d" % c)[::-1]
            render = astr + bstr + cstr
            dix = [int(s) for s in render]
            x = torch.tensor(dix[:-1], dtype=torch.long)
            y = torch.tensor(dix[1:], dtype=torch.long)
            y[:ndigit * 2 - 1] = -1
            return x, y

    return AdditionDataset(config, split)


def trainer_class(torch):
    class Trainer:
        def __init__(self, config, model, train_dataset):
            self.config = config
            self.model = model
            self.optimizer = None
            self.train_dataset = train_dataset
            self.callbacks = defaultdict(list)
            if config.device == "auto":
                self.device = "cuda" if torch.cuda.is_available() else "cpu"
            else:
                self.device = config.device
            self.model = self.model.to(self.device)
            self.iter_num = 0
            self.iter_time = 0.0
            self.iter_dt = 0.0

        def add_callback(self, onevent, callback):
            self.callbacks[onevent].append(callback)

        def set_callback(self, onevent, callback):
            self.callbacks[onevent] = [callback]

        def trigger_callbacks(self, onevent):
            for callback in self.callbacks.get(onevent, []):
                callback(self)

        def run(self):
            model, config = self.model, self.config
            self.optimizer = model.configure_optimizers(config)
            train_loader = torch.utils.data.DataLoader(
                self.train_dataset,
                sampler=torch.utils.data.RandomSampler(self.train_dataset, replacement=True, num_samples=int(1e10)),
                shuffle=False, pin_memory=True, batch_size=config.batch_size, num_workers=config.num_workers)
            model.train()
            self.iter_num = 0
            self.iter_time = time.time()
            data_iter = iter(train_loader)
            while True:
                try:
                    batch = next(data_iter)
                except StopIteration:
                    data_iter = iter(train_loader)
                    batch = next(data_iter)
                batch = [t.to(self.device) for t in batch]
                x, y = batch
                logits, self.loss = model(x, y)
                model.zero_grad(set_to_none=True)
                self.loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_norm_clip)
                self.optimizer.step()
                self.trigger_callbacks("on_batch_end")
                self.iter_num += 1
                tnow = time.time()
                self.iter_dt = tnow - self.iter_time
                self.iter_time = tnow
                if config.max_iters is not None and self.iter_num >= config.max_iters:
                    break

    return Trainer


def eval_split(torch, model, dataset, device, log, split, max_batches=None):
    """adder.py's eval_split: how many of the dataset's sums the model completes right, greedily."""
    ndigit = dataset.config.ndigit
    results = []
    mistakes_printed_already = 0
    factors = torch.tensor([[10 ** i for i in range(ndigit + 1)][::-1]]).to(device)
    loader = torch.utils.data.DataLoader(dataset, batch_size=100, num_workers=0, drop_last=False)
    for b, (x, y) in enumerate(loader):
        x = x.to(device)
        d1d2 = x[:, :ndigit * 2]
        d1d2d3 = model.generate(d1d2, ndigit + 1, do_sample=False)
        d3 = d1d2d3[:, -(ndigit + 1):]
        d3 = d3.flip(1)
        d1i = (d1d2[:, :ndigit] * factors[:, 1:]).sum(1)
        d2i = (d1d2[:, ndigit:ndigit * 2] * factors[:, 1:]).sum(1)
        d3i_pred = (d3 * factors).sum(1)
        d3i_gt = d1i + d2i
        correct = (d3i_pred == d3i_gt).cpu()
        for i in range(x.size(0)):
            results.append(int(correct[i]))
            if not correct[i] and mistakes_printed_already < 5:
                mistakes_printed_already += 1
                log.append("GPT claims that %d + %d = %d but gt is %d" % (d1i[i], d2i[i], d3i_pred[i], d3i_gt[i]))
        if max_batches is not None and b + 1 >= max_batches:
            break
    rt = torch.tensor(results, dtype=torch.float)
    log.append("%s final score: %d/%d = %.2f%% correct" % (split, rt.sum(), len(results), 100 * rt.mean()))
    return rt.sum()


def main(torch, work_dir, argv=(), model=None, log=None):
    """adder.py's __main__ (`model` in place of the one it builds, for the same initial weights in two libraries).
    Returns the step losses, the (iteration, train score, test score) evaluations, the log and the datasets."""
    log = [] if log is None else log
    config = get_config(work_dir)
    config.merge_from_args(list(argv))
    log.append(str(config))
    setup_logging(config)
    set_seed(torch, config.system.seed)
    train_dataset = addition_dataset(torch, config.data, split="train")
    test_dataset = addition_dataset(torch, config.data, split="test")
    config.model.vocab_size = train_dataset.get_vocab_size()
    config.model.block_size = train_dataset.get_block_size()
    model = model if model is not None else prog_mingpt.build(torch, config.model)
    trainer = trainer_class(torch)(config.trainer, model, train_dataset)

    top_score = 0
    losses, evaluations = [], []

    def batch_end_callback(trainer):
        nonlocal top_score
        losses.append(trainer.loss.item())
        if trainer.iter_num % 10 == 0:
            log.append(f"iter_dt {trainer.iter_dt * 1000:.2f}ms; iter {trainer.iter_num}: train loss "
                       f"{trainer.loss.item():.5f}")
        if trainer.iter_num % 30 == 0:
            model.eval()
            with torch.no_grad():
                train_score = eval_split(torch, model, train_dataset, trainer.device, log, "train", max_batches=2)
                test_score = eval_split(torch, model, test_dataset, trainer.device, log, "test", max_batches=None)
            score = train_score + test_score
            evaluations.append((trainer.iter_num, float(train_score), float(test_score)))
            if score > top_score:
                top_score = score
                log.append(f"saving model with new top score of {score}")
                ckpt_path = os.path.join(config.system.work_dir, "model.pt")
                torch.save(model.state_dict(), ckpt_path)
            model.train()

    trainer.set_callback("on_batch_end", batch_end_callback)
    trainer.run()
    return losses, evaluations, log, (train_dataset, test_dataset)
