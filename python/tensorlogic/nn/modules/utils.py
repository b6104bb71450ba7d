"""torch.nn.modules.utils: the argument helpers programs import from there (_single, _pair, _triple, _quadruple,
_ntuple, _reverse_repeat_tuple) and consume_prefix_in_state_dict_if_present."""
import collections.abc


def _ntuple(n, name="parse"):
    """A function that returns an iterable argument as a tuple and repeats anything else n times."""

    def parse(x):
        return tuple(x) if isinstance(x, collections.abc.Iterable) else (x,) * n

    parse.__name__ = parse.__qualname__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    """t's elements last first, each repeated n times: a per-dim padding turned into F.pad's order."""
    return tuple(x for x in t[::-1] for _ in range(n))


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Strips `prefix` (such as "module.", which DistributedDataParallel and DataParallel add) from the keys of
    state_dict that start with it, in place, and from the keys of its `_metadata` when it has one."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in [k for k in metadata if k.startswith(prefix) or k == prefix.rstrip(".")]:
            metadata[key[len(prefix):] if key.startswith(prefix) else ""] = metadata.pop(key)
