"""tl.backends.cudnn: torch.backends.cudnn's flags. TensorLogic does not use cuDNN (its convolutions are
its own kernels, deterministic for a given shape and device), so benchmark, deterministic, enabled and
allow_tf32 are stored and change nothing."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    """False: TensorLogic does not use cuDNN."""
    return False


def version():
    """None: no cuDNN is linked."""
    return None
