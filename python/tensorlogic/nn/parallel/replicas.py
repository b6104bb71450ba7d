"""DataParallel: one process driving several GPUs, as torch.nn.DataParallel. Each forward splits the batch along
`dim` across the devices (scatter), runs a replica of the module on each chunk and concatenates the outputs on
output_device (gather).

A replica is a shallow copy of every module of the tree whose parameters and buffers are copies on its device made
through autograd (Tensor.to), so that backward carries each replica's gradients back and sums them into the module's
own parameters. On device_ids[0], where the module lives, `to` returns the module's tensors themselves, so in-place
updates there (a BatchNorm's running statistics) persist, as PyTorch guarantees; changes to other attributes during
forward are lost with the replicas, as in PyTorch. The replicas run one after the other from this thread: each
device queues its work on its own stream, so the devices compute at the same time while the host moves on."""
import warnings
from collections import OrderedDict

from ...device import cuda, device_name
from ...ops.shape import cat, stack
from ...tensor import Tensor
from ..module import Module


def _devices(ids):
    """Device names for device_ids entries (ints are CUDA ordinals, as in PyTorch)."""
    return [f"cuda:{d}" if isinstance(d, int) else device_name(d) for d in ids]


def scatter(inputs, devices, dim=0):
    """One entry per device, at most: tensors split into len(devices) chunks along dim (tensor.chunk's sizes) and
    moved to their devices, tuples, lists and dicts split item by item (as many entries as the shortest), anything
    else given to every device."""
    def split(obj):
        if isinstance(obj, Tensor):
            return [chunk.to(device) for chunk, device in zip(obj.chunk(len(devices), dim), devices)]
        if isinstance(obj, tuple) and obj:
            return [type(obj)(parts) if not hasattr(obj, "_fields") else type(obj)(*parts)
                    for parts in zip(*map(split, obj))]
        if isinstance(obj, list) and obj:
            return [list(parts) for parts in zip(*map(split, obj))]
        if isinstance(obj, dict) and obj:
            return [type(obj)(zip(obj.keys(), parts)) for parts in zip(*map(split, obj.values()))]
        return [obj for _ in devices]

    return split(inputs)


def scatter_kwargs(inputs, kwargs, devices, dim=0):
    """(inputs per device, kwargs per device), the shorter padded with empty ones, as PyTorch's."""
    inputs = scatter(inputs, devices, dim) if inputs else []
    kwargs = scatter(kwargs, devices, dim) if kwargs else []
    inputs += [()] * (len(kwargs) - len(inputs))
    kwargs += [{}] * (len(inputs) - len(kwargs))
    return tuple(inputs), tuple(kwargs)


def replicate(module, devices):
    """A replica of module per device (see the module's docstring)."""
    return [_replica(module, device, {}) for device in devices]


def _replica(module, device, memo):
    """module's replica on device; memo maps the ids of the modules and tensors copied so far to their copies, so
    that a module or tensor used twice (tied weights) stays one."""
    if id(module) in memo:
        return memo[id(module)]
    replica = type(module).__new__(type(module))
    replica.__dict__.update(module.__dict__)  # (new tables below; the other attributes shared, as PyTorch's)
    memo[id(module)] = replica

    def moved(t):
        if t is not None and id(t) not in memo:
            memo[id(t)] = t.to(device)
        return None if t is None else memo[id(t)]

    replica.__dict__["_parameters"] = OrderedDict((name, moved(p)) for name, p in module._parameters.items())
    replica.__dict__["_buffers"] = OrderedDict((name, moved(b)) for name, b in module._buffers.items())
    replica.__dict__["_modules"] = OrderedDict(
        (name, None if m is None else _replica(m, device, memo)) for name, m in module._modules.items())
    return replica


def gather(outputs, target_device, dim=0):
    """The replicas' outputs joined on target_device: tensors concatenated along dim (0-d ones stacked into a
    vector, with PyTorch's warning), tuples, lists and dicts joined item by item, None kept."""
    first = outputs[0]
    if isinstance(first, Tensor):
        if first.ndim == 0:
            warnings.warn("Was asked to gather along dimension 0, but all input tensors were scalars; will instead "
                          "unsqueeze and return a vector.", stacklevel=3)
            return stack([o.to(target_device) for o in outputs])
        return cat([o.to(target_device) for o in outputs], dim)
    if first is None:
        return None
    if isinstance(first, dict):
        return type(first)((k, gather([o[k] for o in outputs], target_device, dim)) for k in first)
    if isinstance(first, (tuple, list)):
        joined = [gather(list(parts), target_device, dim) for parts in zip(*outputs)]
        return type(first)(*joined) if hasattr(first, "_fields") else type(first)(joined)
    return first


class DataParallel(Module):
    """Wraps `module` (its state_dict keys gain torch's "module." prefix) to split each batch across device_ids
    (default: every CUDA device) and gather the outputs on output_device (default: device_ids[0]); see the module's
    docstring. The module must live on device_ids[0]. Without CUDA devices it runs the module as it is, with one it
    runs it on the inputs moved there, as PyTorch's does."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected an nn.Module, got {type(module).__name__}")
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        self.module = module
        self.device_ids = _devices(device_ids)
        self.output_device = _devices([output_device])[0] if output_device is not None else (
            self.device_ids[0] if self.device_ids else None)
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        """The module's output on the inputs, computed by one replica per device on its share of the batch."""
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        source = self.device_ids[0]
        for name, t in list(self.module.named_parameters()) + list(self.module.named_buffers()):
            if t.device != source:  # (a device compares with its name: 'cuda' is 'cuda:0')
                raise RuntimeError(f"module must have its parameters and buffers on device {source} (device_ids[0]) "
                                   f"but found one of them ('{name}') on device: {t.device}")
        inputs, kwargs = scatter_kwargs(inputs, kwargs, self.device_ids, self.dim)
        if not inputs:  # no arguments at all: the module runs once, on the first device
            inputs, kwargs = ((),), ({},)
        if len(self.device_ids) == 1:
            return self.module(*inputs[0], **kwargs[0])
        replicas = replicate(self.module, self.device_ids[:len(inputs)])
        outputs = [replica(*args, **kw) for replica, args, kw in zip(replicas, inputs, kwargs)]
        return gather(outputs, self.output_device, self.dim)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """torch.nn.parallel.data_parallel: one DataParallel forward of module on inputs (a tensor or a tuple)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    return DataParallel(module, device_ids, output_device, dim)(*inputs, **(module_kwargs or {}))
