"""What the programs here share: DataLoaders over the synthetic numpy data the tests make (in place of the
examples' downloaded datasets) and the examples' choice of device. Written against a module `torch`, like
the programs, so that it serves PyTorch and TensorLogic alike."""


def loader(torch, arrays, **kwargs):
    """A DataLoader over a TensorDataset of the numpy arrays (samples along their first dim)."""
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*(torch.tensor(a) for a in arrays)), **kwargs)


def accelerator(torch):
    """The PyTorch examples' device: the current accelerator where one is available, else the CPU; and whether
    one is."""
    use_accel = torch.accelerator.is_available()
    return use_accel, torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
