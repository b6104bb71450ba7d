"""tl.func.vmap (torch.func.vmap, also tl.vmap): func mapped over a dimension of its inputs.

It loops: func runs once per index of the mapped dimension, on the inputs' slices there (views), and the results are
stacked along out_dims. So any function works (nested vmap, grad inside vmap, autograd through it), at the cost of
one call per batch element, and more is accepted than by PyTorch's batching rules: .item(), Python control flow on
values and outputs whose shapes vary raise nothing until the stacking needs equal shapes."""
import functools

import numpy as np

from .. import _core
from ..errors import ShapeMismatchError
from ..ops.shape import stack
from ..tensor import Tensor, _wrap
from ..utils._pytree import broadcast_prefix, tree_flatten, tree_unflatten

__all__ = ["vmap"]

_RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either use the 'same' or "
                 "'different' randomness flags on vmap or perform the randomness operation out of vmap")


def _name(func):
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return getattr(func, "__name__", repr(func))


def _batch_size(flat_in_dims, flat_args):
    sizes = [a.shape[d] for d, a in zip(flat_in_dims, flat_args) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ShapeMismatchError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                                 f"{sizes} for the mapped dimension")  # (a ValueError, as PyTorch's)
    return sizes[0]


def _in_dims_of(func, in_dims, args):
    """(flat args, their spec, each flat arg's mapped dim or None), with torch.func.vmap's errors."""
    if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
        raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                         f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                         "trying to vmap over a function with no inputs. The latter is unsupported.")
    flat, spec = tree_flatten(args)
    dims = broadcast_prefix(in_dims, spec)
    if dims is None:
        raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                         f"structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but inputs has "
                         f"structure {spec}.")
    for i, (a, d) in enumerate(zip(flat, dims)):
        if d is None:
            continue
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                             "in_dim must be either an integer dimension or None.")
        if not isinstance(a, Tensor):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                             f"the input is of type {type(a)}. We cannot vmap over non-Tensor arguments, please use "
                             "None as the respective in_dim")
        if not -a.ndim <= d < a.ndim:
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, "
                             f"but that input is a Tensor of dimensionality {a.ndim} so expected in_dim to satisfy "
                             f"-{a.ndim} <= in_dim < {a.ndim}.")
        dims[i] = d % a.ndim
    return flat, spec, dims


def _out_dims_of(func, out_dims, outputs, spec):
    """Each flat output's dim (or None), as torch.func.vmap matches out_dims to the outputs."""
    if isinstance(outputs, Tensor):  # a lone tensor takes an int, None or a tuple of one
        if out_dims is None or isinstance(out_dims, int):
            dims = [out_dims]
        elif isinstance(out_dims, tuple) and len(out_dims) == 1:
            dims = list(out_dims)
        else:
            dims = None
    else:
        dims = broadcast_prefix(out_dims, spec)
    if dims is None:
        raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with "
                         f"the structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but outputs "
                         f"has structure {spec}.")
    for d in dims:
        if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
            raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a "
                             "python collection of ints representing where in the outputs the vmapped dimension "
                             "should appear.")
    return dims


def _slices(a, dim, size):
    """The `size` slices of a along dim (views), or a itself `size` times."""
    return [a] * size if dim is None else list(a.unbind(dim))


def _zero_sample(a, dim):
    """An input slice of a batch of size 0: zeros of a's shape without dim (for learning the outputs' shapes)."""
    shape = list(a.shape[:dim]) + list(a.shape[dim + 1:])
    return _wrap(_core.full(shape, 0.0, a._a.dtype, a._a.device))


def _same(values):
    """Whether every value is the first (the same object, or tensors with equal shape and values)."""
    first = values[0]
    for v in values[1:]:
        if v is first:
            continue
        if not (isinstance(v, Tensor) and isinstance(first, Tensor) and v.shape == first.shape
                and np.array_equal(v.numpy(), first.numpy())):
            return False
    return True


def _check_randomness(randomness):
    """randomness is one of PyTorch's three names (RuntimeError otherwise, as PyTorch; a non-str, which PyTorch
    compares with `in` and an array answers ambiguously, is a TypeError)."""
    if not isinstance(randomness, str):
        raise TypeError(f"randomness must be 'error', 'different' or 'same', got {type(randomness).__name__}")
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dimension in_dims of its inputs, the results stacked along out_dims, as torch.func.vmap.

    in_dims: an int for every input, or a tuple with one entry per positional argument (each an int, None for an
    input passed whole, or a structure matching that argument's); out_dims likewise for the outputs (None: an output
    the same for every element, returned once). Keyword arguments are passed whole. randomness: "error" (the default)
    raises where func draws random numbers, "different" gives each element its own draw, "same" gives every element
    the same numbers. This implementation loops over the batch (see the module docstring): chunk_size (None or > 0)
    is accepted and changes nothing. A batch of size 0 runs func once on zeros to learn the outputs' shapes."""
    _check_randomness(randomness)
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def mapped(*args, **kwargs):
        flat, spec, dims = _in_dims_of(func, in_dims, args)
        size = _batch_size(dims, flat)
        if size == 0:
            sample = [a if d is None else _zero_sample(a, d) for a, d in zip(flat, dims)]
            out = func(*tree_unflatten(sample, spec), **kwargs)
            return _empty_like_outputs(func, out, out_dims)
        columns = [_slices(a, d, size) for a, d in zip(flat, dims)]
        start = _core.random_state()
        results = []
        for b in range(size):
            if randomness == "same":
                _core.set_random_state(*start)
            before = _core.random_state()
            results.append(func(*tree_unflatten([c[b] for c in columns], spec), **kwargs))
            if randomness == "error" and _core.random_state() != before:
                raise RuntimeError(_RANDOM_ERROR)
        return _stacked(func, results, out_dims)

    return mapped


def _stacked(func, results, out_dims):
    flat0, spec = tree_flatten(results[0])
    dims = _out_dims_of(func, out_dims, results[0], spec)
    per = []
    for r in results:
        leaves, s = tree_flatten(r)
        if s != spec:
            raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` returned outputs of different structures for "
                             f"different batch elements: {spec} and {s}")
        per.append(leaves)
    name = _name(func)
    out = []
    for i, d in enumerate(dims):
        values = [leaves[i] for leaves in per]
        if d is None:
            if not _same(values):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
            out.append(values[0])
            continue
        for v in values:
            _stack_dim(name, v, d)
        out.append(stack(values, _stack_dim(name, values[0], d)))
    return tree_unflatten(out, spec)


def _stack_dim(name, v, d):
    """Where output v's batch dimension goes (out_dim d made non-negative), with PyTorch's errors."""
    if not isinstance(v, Tensor):
        raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(v)}. Did you mean to "
                         "set out_dims= to None for output?")
    ndim = v.ndim + 1
    if not -ndim <= d < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {d})")
    return d % ndim


def _empty_like_outputs(func, sample, out_dims):
    """The outputs of a batch of size 0: sample's outputs with a dimension of 0 at out_dims."""
    flat, spec = tree_flatten(sample)
    dims = _out_dims_of(func, out_dims, sample, spec)
    name = _name(func)
    out = []
    for v, d in zip(flat, dims):
        if d is None:
            out.append(v)
            continue
        shape = list(v.shape)
        shape.insert(_stack_dim(name, v, d), 0)
        out.append(v.new_zeros(shape))
    return tree_unflatten(out, spec)
