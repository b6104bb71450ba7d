"""torch.func's functional_call and stack_module_state: a module called with other parameters and buffers (MAML's
fast weights, model ensembles), without copying either."""
from ..nn.utils.stateless import _functional_call
from ..ops.shape import stack
from ..tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]


def _merged(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, dict):
        return parameter_and_buffer_dicts
    if isinstance(parameter_and_buffer_dicts, (list, tuple)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        seen, repeated = set(), []
        for d in parameter_and_buffer_dicts:
            for k in d:
                if k in seen and k not in repeated:
                    repeated.append(k)
                seen.add(k)
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        return {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                     f"{type(parameter_and_buffer_dicts)}")


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with its parameters and buffers replaced by the given tensors (a dict of dotted names,
    or a list/tuple of dicts with distinct keys), as torch.func.functional_call. The tensors are put in place as they
    are (no copy; gradients flow to them, so MAML's fast weights p - lr * g work) and the module's own are restored
    afterwards, also when the call raises; a tensor the module assigned in place of a given one (a buffer it
    reassigned) is put back into the given dict. A name tied to another (one tensor under two names) takes the value
    of either unless tie_weights=False; strict=True raises where the names are not exactly the module's. args that
    is not a tuple is the one positional argument."""
    return _functional_call(module, _merged(parameter_and_buffer_dicts), args, kwargs, tie_weights=tie_weights,
                            strict=strict)


def stack_module_state(models):
    """(params, buffers): each parameter and buffer of the models (all of one class and one train/eval mode) stacked
    along a new first dimension, as torch.func.stack_module_state, for vmap over functional_call (an ensemble).
    Stacked parameters are new leaves requiring grad."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if len({type(m) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named):
        tables = [dict(named(m)) for m in models]
        result = {}
        for name in tables[0]:
            tensors = [t[name] for t in tables]
            flags = {t.requires_grad for t in tensors}
            if len(flags) > 1:
                raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
            s = stack([t.detach() for t in tensors])
            s.requires_grad = flags.pop()
            result[name] = s
        return result

    return stacked(lambda m: m.named_parameters()), stacked(lambda m: m.named_buffers())
