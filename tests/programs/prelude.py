"""What the programs here share: DataLoaders over the synthetic numpy data the tests make (in place of the
examples' downloaded datasets), the examples' choice of device, and the transformer parts that nanoGPT and
makemore (which took them from nanoGPT) share. Written against a module `torch`, like
the programs, so that it serves PyTorch and TensorLogic alike."""


def loader(torch, arrays, **kwargs):
    """A DataLoader over a TensorDataset of the numpy arrays (samples along their first dim)."""
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*(torch.tensor(a) for a in arrays)), **kwargs)


def accelerator(torch):
    """The PyTorch examples' device: the current accelerator where one is available, else the CPU; and whether
    one is."""
    use_accel = torch.accelerator.is_available()
    return use_accel, torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")


def heads(qkv, n_embd, n_head):
    """q, k and v as [B, n_head, T, n_embd / n_head] from an attention's c_attn output [B, T, 3 n_embd]."""
    B, T = qkv.size(0), qkv.size(1)
    return tuple(t.view(B, T, n_head, n_embd // n_head).transpose(1, 2) for t in qkv.split(n_embd, dim=2))


def block(torch):
    """The transformer block class: pre-norm residual x + attn(ln_1(x)), then + mlp(ln_2(x)), from its four
    layers."""

    class Block(torch.nn.Module):
        def __init__(self, ln_1, attn, ln_2, mlp):
            super().__init__()
            self.ln_1, self.attn, self.ln_2, self.mlp = ln_1, attn, ln_2, mlp

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    return Block
