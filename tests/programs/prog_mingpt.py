"""minGPT as its users write it (mingpt/model.py, mingpt/trainer.py and the sorting demo), written against a
module `torch`: a causal mask in a registered buffer filled with masked_fill, weights initialised through
model.apply, configure_optimizers sorting parameters into decay and no-decay groups by module class, a
Trainer over a Dataset with a RandomSampler drawing with replacement, gradient clipping, a state_dict round
trip through torch.save/torch.load on a BytesIO, and greedy and sampled generation. Shrunk: 2 layers,
24-wide, the demo's task of sorting 6 digits."""
import io
import math
import pickle
import zlib
from ast import literal_eval


class CfgNode:
    """minGPT's configuration object (mingpt/utils.py): attributes given as keywords, nested nodes, printed as an
    indented tree, merged from a dict or from --key=value command-line arguments."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def __str__(self):
        return self._str_helper(0)

    def _str_helper(self, indent):
        parts = []
        for k, v in self.__dict__.items():
            if isinstance(v, CfgNode):
                parts.append("%s:\n" % k)
                parts.append(v._str_helper(indent + 1))
            else:
                parts.append("%s: %s\n" % (k, v))
        parts = [" " * (indent * 4) + p for p in parts]
        return "".join(parts)

    def to_dict(self):
        return {k: v.to_dict() if isinstance(v, CfgNode) else v for k, v in self.__dict__.items()}

    def merge_from_dict(self, d):
        self.__dict__.update(d)

    def merge_from_args(self, args):
        for arg in args:
            keyval = arg.split("=")
            assert len(keyval) == 2, "expecting each override arg to be of form --arg=value, got %s" % arg
            key, val = keyval
            try:
                val = literal_eval(val)
            except ValueError:
                pass
            assert key[:2] == "--"
            key = key[2:]
            keys = key.split(".")
            obj = self
            for k in keys[:-1]:
                obj = getattr(obj, k)
            leaf_key = keys[-1]
            assert hasattr(obj, leaf_key), f"{key} is not an attribute that exists in the config"
            setattr(obj, leaf_key, val)


def model_config(vocab_size=3, block_size=11):
    return CfgNode(n_layer=2, n_head=2, n_embd=24, vocab_size=vocab_size, block_size=block_size,
                   embd_pdrop=0.0, resid_pdrop=0.0, attn_pdrop=0.0)


def build(torch, config):
    nn = torch.nn
    F = nn.functional

    class NewGELU(nn.Module):
        def forward(self, x):
            return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    class CausalSelfAttention(nn.Module):
        def __init__(self, config):
            super().__init__()
            assert config.n_embd % config.n_head == 0
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
            self.c_proj = nn.Linear(config.n_embd, config.n_embd)
            self.attn_dropout = nn.Dropout(config.attn_pdrop)
            self.resid_dropout = nn.Dropout(config.resid_pdrop)
            self.register_buffer("bias", torch.tril(torch.ones(config.block_size, config.block_size))
                                 .view(1, 1, config.block_size, config.block_size))
            self.n_head = config.n_head
            self.n_embd = config.n_embd

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.resid_dropout(self.c_proj(y))

    class Block(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.ln_1 = nn.LayerNorm(config.n_embd)
            self.attn = CausalSelfAttention(config)
            self.ln_2 = nn.LayerNorm(config.n_embd)
            self.mlp = nn.ModuleDict(dict(
                c_fc=nn.Linear(config.n_embd, 4 * config.n_embd),
                c_proj=nn.Linear(4 * config.n_embd, config.n_embd),
                act=NewGELU(),
                dropout=nn.Dropout(config.resid_pdrop),
            ))
            m = self.mlp
            self.mlpf = lambda x: m.dropout(m.c_proj(m.act(m.c_fc(x))))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlpf(self.ln_2(x))
            return x

    class GPT(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.block_size = config.block_size
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.embd_pdrop),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd),
            ))
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith("c_proj.weight"):
                    torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))
            self.n_params = sum(p.numel() for p in self.transformer.parameters())

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            elif isinstance(module, nn.LayerNorm):
                torch.nn.init.zeros_(module.bias)
                torch.nn.init.ones_(module.weight)

        def configure_optimizers(self, train_config):
            decay = set()
            no_decay = set()
            whitelist_weight_modules = (torch.nn.Linear, )
            blacklist_weight_modules = (torch.nn.LayerNorm, torch.nn.Embedding)
            for mn, m in self.named_modules():
                for pn, p in m.named_parameters():
                    fpn = "%s.%s" % (mn, pn) if mn else pn
                    # named_modules and named_parameters are recursive: each parameter is seen once per
                    # module above it; only its own module's class decides.
                    if pn.endswith("bias"):
                        no_decay.add(fpn)
                    elif pn.endswith("weight") and isinstance(m, whitelist_weight_modules):
                        decay.add(fpn)
                    elif pn.endswith("weight") and isinstance(m, blacklist_weight_modules):
                        no_decay.add(fpn)
            param_dict = {pn: p for pn, p in self.named_parameters()}
            inter_params = decay & no_decay
            union_params = decay | no_decay
            assert len(inter_params) == 0, "parameters %s made it into both decay/no_decay sets!" % (str(inter_params),)
            assert len(param_dict.keys() - union_params) == 0, \
                "parameters %s were not separated into either decay/no_decay set!" \
                % (str(param_dict.keys() - union_params),)
            optim_groups = [
                {"params": [param_dict[pn] for pn in sorted(list(decay))], "weight_decay": train_config.weight_decay},
                {"params": [param_dict[pn] for pn in sorted(list(no_decay))], "weight_decay": 0.0},
            ]
            return torch.optim.AdamW(optim_groups, lr=train_config.learning_rate, betas=train_config.betas)

        def forward(self, idx, targets=None):
            device = idx.device
            b, t = idx.size()
            assert t <= self.block_size, f"Cannot forward sequence of length {t}, block size is only {self.block_size}"
            pos = torch.arange(0, t, dtype=torch.long, device=device).unsqueeze(0)
            tok_emb = self.transformer.wte(idx)
            pos_emb = self.transformer.wpe(pos)
            x = self.transformer.drop(tok_emb + pos_emb)
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            logits = self.lm_head(x)
            loss = None
            if targets is not None:
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            return logits, loss

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, do_sample=False, top_k=None):
            for _ in range(max_new_tokens):
                idx_cond = idx if idx.size(1) <= self.block_size else idx[:, -self.block_size:]
                logits, _ = self(idx_cond)
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

    return GPT(config)


def make_inputs(rng, n=3000, length=6, num_digits=3):
    """The digit sequences the demo's SortDataset draws (half of them with at most length // 2 distinct digits, as
    its rejection step leaves them), drawn here once with numpy so that both libraries see the same ones."""
    inputs = rng.integers(0, num_digits, (n, length))
    few = rng.random(n) < 0.5
    inputs[few] = rng.integers(0, num_digits - 1, (few.sum(), length))
    return inputs


def sort_dataset(torch, inputs, split):
    """The demo's SortDataset over given inputs: each sequence with its sorted order, the first length - 1
    targets masked with -1; split into train and test by a hash of the input, as in the demo (crc32 in place of
    its hash(), which Python salts per process, so that a failing seed replays)."""

    class SortDataset(torch.utils.data.Dataset):
        def __init__(self, inputs, split):
            assert split in {"train", "test"}
            self.split = split
            self.length = inputs.shape[1]
            self.num_digits = int(inputs.max()) + 1
            keep = [i for i, row in enumerate(inputs.tolist())
                    if ("test" if zlib.crc32(pickle.dumps(row)) % 4 == 0 else "train") == split]
            self.inputs = torch.from_numpy(inputs[keep])

        def __len__(self):
            return len(self.inputs)

        def get_vocab_size(self):
            return self.num_digits

        def get_block_size(self):
            return self.length * 2 - 1

        def __getitem__(self, idx):
            inp = self.inputs[idx]
            sol = torch.sort(inp)[0]
            cat = torch.cat((inp, sol), dim=0)
            x = cat[:-1].clone()
            y = cat[1:].clone()
            y[:self.length - 1] = -1
            return x, y

    return SortDataset(inputs, split)


def train(torch, model, inputs, max_iters=20, seed=1, random_order=True):
    """minGPT's Trainer (AdamW groups from configure_optimizers, a DataLoader with a RandomSampler drawing with
    replacement, clip_grad_norm_, an on_batch_end callback) on the sorting task; then the demo's evaluation
    (greedy completion of test sequences) on a model reloaded from a saved state_dict. Returns the training
    losses, the mean test loss and the fraction of test sequences sorted right. With random_order False the
    batches come in the dataset's order (the same batches in either library)."""
    torch.manual_seed(seed)
    train_dataset, test_dataset = sort_dataset(torch, inputs, "train"), sort_dataset(torch, inputs, "test")
    config = CfgNode(device="cpu", num_workers=0, max_iters=max_iters, batch_size=32, learning_rate=5e-3,
                     betas=(0.9, 0.95), weight_decay=0.1, grad_norm_clip=1.0)
    optimizer = model.configure_optimizers(config)
    sampler = (torch.utils.data.RandomSampler(train_dataset, replacement=True, num_samples=int(1e10))
               if random_order else None)
    train_loader = torch.utils.data.DataLoader(train_dataset, sampler=sampler, shuffle=False, pin_memory=True,
                                               batch_size=config.batch_size, num_workers=config.num_workers)
    callbacks = {"on_batch_end": []}
    losses = []
    callbacks["on_batch_end"].append(lambda trainer: losses.append(trainer["loss"].item()))

    model.train()
    iter_num = 0
    data_iter = iter(train_loader)
    state = {}
    while True:
        try:
            batch = next(data_iter)
        except StopIteration:
            data_iter = iter(train_loader)
            batch = next(data_iter)
        batch = [t.to(config.device) for t in batch]
        x, y = batch
        logits, state["loss"] = model(x, y)
        model.zero_grad(set_to_none=True)
        state["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_norm_clip)
        optimizer.step()
        for callback in callbacks["on_batch_end"]:
            callback(state)
        iter_num += 1
        if iter_num >= config.max_iters:
            break

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    model.load_state_dict(torch.load(buffer))
    model.eval()

    loader = torch.utils.data.DataLoader(test_dataset, batch_size=50, num_workers=0, drop_last=False)
    test_losses, results = [], []
    n = test_dataset.length
    for b, (x, y) in enumerate(loader):
        with torch.no_grad():
            _, loss = model(x, y)
        test_losses.append(loss.item())
        inp = x[:, :n]
        sol = y[:, -n:]
        cat = model.generate(inp, n, do_sample=False)
        sol_candidate = cat[:, n:]
        correct = (sol == sol_candidate).all(1).cpu()
        results.extend(correct.tolist())
        if b + 1 >= 2:
            break
    return losses, sum(test_losses) / len(test_losses), sum(results) / len(results)


def sample(torch, model, seed=3):
    """Sampled completions with top-k (the generate's other branch)."""
    torch.manual_seed(seed)
    model.eval()
    x = torch.tensor([[2, 0, 1, 1, 0, 2]], dtype=torch.long)
    return model.generate(x, 5, temperature=0.9, do_sample=True, top_k=2)[0].tolist()
