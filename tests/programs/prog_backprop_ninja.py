"""makemore part 4, "becoming a backprop ninja": the MLP character model (embedding table C, a hidden layer with a
hand-written batch norm, tanh, an output layer) run forward in small steps that each retain_grad(), the loss by
-logprobs[range(n), Yb].mean(), then every gradient written out by hand (counts.sum(1, keepdims=True), the max's
gradient through F.one_hot(logits.max(1).indices, ...), the batch norm's in one line, dC accumulated row by row by
indexing with 0-d tensors) and compared with autograd's by the notebook's cmp (torch.all(dt == t.grad), torch.allclose,
the largest difference); then the training loop that uses only the hand-written gradients (cross entropy's as
softmax - one-hot, p.data += -lr * grad) and keeps the batch norm's running statistics under torch.no_grad().
Written against a module `torch`. The words are synthetic; the parameters are made once with numpy (each library's
torch.Generator draws other numbers) and given to both."""
import numpy as np


def make_words(rng, n_words=300):
    syllables = ["ka", "ri", "lo", "mi", "sa", "na", "te", "vo", "el", "an", "ju", "be"]
    return ["".join(rng.choice(syllables, rng.integers(1, 4))) for _ in range(n_words)]


def init_params(rng, vocab_size=27, n_embd=10, n_hidden=64, block_size=3):
    """The notebook's initialisation (Kaiming-scaled W1, small W2 and biases, gains near 1), in f16."""
    def f16(*shape, scale=1.0, shift=0.0):
        return (rng.standard_normal(shape) * scale + shift).astype(np.float16)

    return [f16(vocab_size, n_embd), f16(n_embd * block_size, n_hidden, scale=(5 / 3) / (n_embd * block_size) ** 0.5),
            f16(n_hidden, scale=0.1), f16(n_hidden, vocab_size, scale=0.1), f16(vocab_size, scale=0.1),
            f16(1, n_hidden, scale=0.1, shift=1.0), f16(1, n_hidden, scale=0.1)]


def build_dataset(torch, words, stoi, block_size=3):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + '.':
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]  # crop and append
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    return X, Y


def cmp(torch, s, dt, t):
    ex = torch.all(dt == t.grad).item()
    app = torch.allclose(dt, t.grad, rtol=1e-2, atol=1e-3)
    maxdiff = (dt - t.grad).abs().max().item()
    return s, bool(ex), bool(app), maxdiff


def train(torch, params, words, batch_size=32, steps=30, lr=0.1, seed=0):
    """Returns the first batch's loss, cmp's verdicts on it, the losses of the hand-written training and the loss on
    all the words after it."""
    F = torch.nn.functional
    chars = sorted(list(set(''.join(words))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi['.'] = 0
    Xtr, Ytr = build_dataset(torch, words, stoi)
    C, W1, b1, W2, b2, bngain, bnbias = [torch.tensor(p.astype(np.float32)) for p in params]
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True
    batch_rows = np.random.default_rng(seed).integers(0, Xtr.shape[0], (steps + 1, batch_size))

    # ---- one batch forward in small steps, autograd's gradients, and the hand-written ones ----
    n = batch_size
    ix = torch.tensor(batch_rows[0])
    Xb, Yb = Xtr[ix], Ytr[ix]
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff ** 2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)  # note: Bessel's correction (dividing by n-1, not n)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes  # subtract max for numerical stability
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum ** -1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()

    for p in parameters:
        p.grad = None
    for t in [logprobs, probs, counts, counts_sum, counts_sum_inv, norm_logits, logit_maxes, logits, h, hpreact, bnraw,
              bnvar_inv, bnvar, bndiff2, bndiff, hprebn, bnmeani, embcat, emb]:
        t.retain_grad()
    loss.backward()

    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = (1.0 / probs) * dlogprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = counts_sum_inv * dprobs
    dcounts_sum = (-counts_sum ** -2) * dcounts_sum_inv
    dcounts += torch.ones_like(counts) * dcounts_sum
    dnorm_logits = counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - h ** 2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnbias = dhpreact.sum(0, keepdim=True)
    dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]

    verdicts = [cmp(torch, 'logprobs', dlogprobs, logprobs), cmp(torch, 'probs', dprobs, probs),
                cmp(torch, 'counts_sum', dcounts_sum, counts_sum), cmp(torch, 'logits', dlogits, logits),
                cmp(torch, 'h', dh, h), cmp(torch, 'W2', dW2, W2), cmp(torch, 'b2', db2, b2),
                cmp(torch, 'hpreact', dhpreact, hpreact), cmp(torch, 'bngain', dbngain, bngain),
                cmp(torch, 'bnbias', dbnbias, bnbias), cmp(torch, 'hprebn', dhprebn, hprebn),
                cmp(torch, 'W1', dW1, W1), cmp(torch, 'b1', db1, b1), cmp(torch, 'C', dC, C)]
    first_loss = loss.item()

    # ---- training with the hand-written backward pass only ----
    bnmean_running = torch.zeros((1, W1.shape[1]))
    bnvar_running = torch.ones((1, W1.shape[1]))
    losses = []
    with torch.no_grad():
        for i in range(steps):
            ix = torch.tensor(batch_rows[i + 1])
            Xb, Yb = Xtr[ix], Ytr[ix]
            emb = C[Xb]
            embcat = emb.view(emb.shape[0], -1)
            hprebn = embcat @ W1 + b1
            bnmean = hprebn.mean(0, keepdim=True)
            bnvar = hprebn.var(0, keepdim=True, unbiased=True)
            bnvar_inv = (bnvar + 1e-5) ** -0.5
            bnraw = (hprebn - bnmean) * bnvar_inv
            hpreact = bngain * bnraw + bnbias
            h = torch.tanh(hpreact)
            logits = h @ W2 + b2
            loss = F.cross_entropy(logits, Yb)

            dlogits = F.softmax(logits, 1)
            dlogits[range(n), Yb] -= 1
            dlogits /= n
            dh = dlogits @ W2.T
            dW2 = h.T @ dlogits
            db2 = dlogits.sum(0)
            dhpreact = (1.0 - h ** 2) * dh
            dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
            dbnbias = dhpreact.sum(0, keepdim=True)
            dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
            dembcat = dhprebn @ W1.T
            dW1 = embcat.T @ dhprebn
            db1 = dhprebn.sum(0)
            demb = dembcat.view(emb.shape)
            dC = torch.zeros_like(C)
            dC.index_add_(0, Xb.view(-1), demb.view(-1, demb.shape[-1]))
            grads = [dC, dW1, db1, dW2, db2, dbngain, dbnbias]
            for p, grad in zip(parameters, grads):
                p.data += -lr * grad
            bnmean_running = 0.999 * bnmean_running + 0.001 * bnmean
            bnvar_running = 0.999 * bnvar_running + 0.001 * bnvar
            losses.append(loss.item())

        emb = C[Xtr]
        hpreact = bngain * (emb.view(emb.shape[0], -1) @ W1 + b1 - bnmean_running) * (bnvar_running + 1e-5) ** -0.5 + bnbias
        logits = torch.tanh(hpreact) @ W2 + b2
        split_loss = F.cross_entropy(logits, Ytr).item()
    return first_loss, verdicts, losses, split_loss
