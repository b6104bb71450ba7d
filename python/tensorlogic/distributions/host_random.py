"""numpy's exact samplers (Poisson, binomial, negative binomial, multinomial, von Mises) for the distributions
that draw on the host, keyed from TensorLogic's Philox stream: draws follow tl.manual_seed and advance the stream as
device draws do, and are the same whichever device the parameters live on."""
import numpy as np

from ..creation import tensor
from ..ops.random import randint


def generator():
    """A numpy Generator (Philox) whose 128-bit key is four 31-bit draws of tl's stream."""
    words = randint(0, 2**31 - 1, (4,), device="cpu").numpy().astype(np.uint64)
    key = np.array([(words[0] << np.uint64(31)) | words[1], (words[2] << np.uint64(31)) | words[3]], np.uint64)
    return np.random.Generator(np.random.Philox(key=key))


def host64(t, shape):
    """t expanded to shape, as a float64 numpy array."""
    return np.broadcast_to(t.detach().cpu().numpy().astype(np.float64), shape)


def draw(sampler, valid, shape, like, *params):
    """f16 draws of shape on like's device: sampler(generator, *params) at the elements where `valid` holds (the
    parameters there), NaN elsewhere (parameters numpy's samplers refuse, unchecked without validate_args)."""
    out = np.full(shape, np.nan)
    if valid.any():
        out[valid] = sampler(generator(), *(p[valid] for p in params))
    with np.errstate(over="ignore"):  # counts beyond f16's range are inf, as a cast to f16 in PyTorch
        return tensor(out.astype(np.float16), device=like.device)
