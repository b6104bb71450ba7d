"""torch.use_deterministic_algorithms and its debug-mode spellings: one process-wide switch that the ops without a
deterministic kernel read (through `alert`) before they run one.

What is not run-to-run deterministic here: on CUDA, the f16 scatter that adds repeated positions up, which sums
each position in f32 with atomic adds in whatever order the threads arrive (cuda/indexing.cu, scatter_add_f32);
it is reached by scatter_add, index_add, index_put_/index_put with accumulate=True, and by the gradients of
gather, of indexing with tensors (t[idx]), of take, index_select's composition, Tensor.unfold and grid_sample
(each a scatter_add or an accumulating index_put_). With the switch on these raise RuntimeError (or warn, with
warn_only=True) on CUDA tensors. The fused attention backward on CUDA also adds dQ atomically (both the sm80 and
the Hopper kernel); with the switch on, scaled_dot_product_attention's backward on CUDA computes the gradients
from tensor ops instead (softmax and matmuls: deterministic, more memory), so it neither raises nor warns.
Everything on the CPU is deterministic (its scatter adds in index order; its parallel reductions split work by
the thread count, which is fixed for a run), and the integer scatters are exact whatever their order."""
import warnings

_state = {"enabled": False, "warn_only": False}

_MESSAGE = ("{} does not have a deterministic implementation, but you set 'tl.use_deterministic_algorithms(True)'. "
            "You can turn off determinism just for this operation, or you can use the 'warn_only=True' option, if "
            "that's acceptable for your application.")


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Makes the ops without a deterministic kernel raise RuntimeError when they would run one (or warn, with
    warn_only=True), and ops that have a deterministic alternative use it; process-wide. See this module's doc
    for the list: the f16 scatters that add repeated positions on CUDA (scatter_add, index_add, accumulating
    index_put_, and the gradients of gather, tensor indexing, take, Tensor.unfold and grid_sample there) raise;
    scaled_dot_product_attention's backward on CUDA switches to its composed, deterministic form."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: argument 'mode' must be bool, not {type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms: argument 'warn_only' must be bool, not "
                        f"{type(warn_only).__name__}")
    _state["enabled"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    """True while use_deterministic_algorithms(True) is in effect."""
    return _state["enabled"]


def is_deterministic_algorithms_warn_only_enabled():
    """True when use_deterministic_algorithms was turned on with warn_only=True."""
    return _state["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode):
    """The same switch as use_deterministic_algorithms: 0 or "default" (off), 1 or "warn" (on, warn_only), 2 or
    "error" (on)."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise ValueError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                             f"{debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif not isinstance(debug_mode, int) or isinstance(debug_mode, bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode).__name__}")
    if debug_mode not in (0, 1, 2):
        raise ValueError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    """0 (off), 1 (on, warn_only) or 2 (on), as set_deterministic_debug_mode takes them."""
    if not _state["enabled"]:
        return 0
    return 1 if _state["warn_only"] else 2


def on_cuda(array):
    """Whether a native array (a tensor's `_a`) lives on a CUDA device."""
    return array.device.startswith("cuda")


def alert(what):
    """Before an op without a deterministic kernel runs one: RuntimeError (or a UserWarning with warn_only) while
    the switch is on, nothing otherwise."""
    if not _state["enabled"]:
        return
    if _state["warn_only"]:
        warnings.warn(_MESSAGE.format(what), UserWarning, stacklevel=3)
    else:
        raise RuntimeError(_MESSAGE.format(what))
