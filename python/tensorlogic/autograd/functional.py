"""tl.autograd.functional (torch.autograd.functional): vjp, jvp, jacobian, hessian, vhp and hvp of a function of
tensors, with PyTorch's signatures, results and strict-mode errors.

Everything is reverse mode on the tape. Forward-mode products (jvp, hvp) use the double-vjp trick: for u of the
outputs' shape requiring grad, g(u) = J^T u is linear in u, so the vjp of g with v is J v. A Jacobian is built row by
row, one backward pass per output element (vectorize=True gives the same result the same way: there is no batched
backward to vectorize over)."""
from .. import _core
from ..ops.shape import stack
from ..tensor import Tensor, _wrap
from .api import grad as _grad
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(x, what, fn_name):
    """(was a tuple, the tensors as a tuple); PyTorch's TypeError for anything but a tensor or a tuple of them."""
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"the value at index {i} has type {type(t)}" if is_tuple else f"the given {what} has type {type(t)}"
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple of Tensors but {where}.")
    return is_tuple, items


def _zeros_like(t):
    return _wrap(_core.full(list(t._a.shape), 0.0, "float16", t._a.device))


def _prepare(inputs, create_graph, need_graph):
    """The inputs as the function sees them: with create_graph, one that requires grad stays in its graph (through
    a view), so that the results differentiate back to it; otherwise a detached tensor on the same memory."""
    prepared = []
    for t in inputs:
        if create_graph and t.requires_grad:
            prepared.append(t.view_as(t))
        else:
            prepared.append(t.detach().requires_grad_(bool(need_graph)))
    return tuple(prepared)


def _finish(results, create_graph):
    """Detached results unless create_graph (nested tuples of tensors)."""
    if isinstance(results, Tensor):
        return results if create_graph else results.detach()
    return tuple(_finish(r, create_graph) for r in results)


def _unpack(results, is_tuple):
    return results if is_tuple else results[0]


def _check_v(v, others, others_tuple):
    if len(v) != len(others):
        if others_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(others)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, others)):
        if a.shape != b.shape:
            where = f"Entry {i} in " if others_tuple else ""
            raise RuntimeError(f"{where}v has invalid size: should be {list(b.shape)} but got {list(a.shape)}.")


def _check_outputs(outputs, strict):
    if strict:
        for i, out in enumerate(outputs):
            if not out.requires_grad:
                raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The outputs "
                                   "must be computed in a differentiable manner from the input when running in strict "
                                   "mode.")


def _vjp_of(outputs, inputs, grads, create_graph, retain_graph=None):
    """grad of the outputs that require grad (with their grads) w.r.t. inputs; None per input not reached."""
    pairs = [(o, g) for o, g in zip(outputs, grads) if o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=retain_graph,
                 create_graph=create_graph, allow_unused=True)


def _fill(grads, refs, strict, create_graph, independent, graph_independent):
    """Zeros (of refs' shapes) where a gradient is None; in strict mode PyTorch's errors instead, and with
    create_graph for a result that does not depend on the inputs."""
    filled = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(independent.format(i=i))
            g = _zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(graph_independent.format(i=i))
        filled.append(g)
    return tuple(filled)


_BACK = "The output of the user-provided function is independent of input {i}. This is not allowed in strict mode."
_BACK_GRAPH = ("The jacobian of the user-provided function is independent of input {i}. This is not allowed in strict "
               "mode when create_graph=True.")
_TRICK = ("The gradient with respect to the input is independent of entry {i} in the grad_outputs when using the "
          "double backward trick to compute forward mode gradients. This is not allowed in strict mode.")
_DOUBLE = "The jacobian of the user-provided function is independent of input {i}. This is not allowed in strict mode."
_DOUBLE_GRAPH = ("The hessian of the user-provided function is independent of input {i}. This is not allowed in strict "
                 "mode when create_graph=True.")
_DOUBLE_TRICK = ("The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. This is "
                 "not allowed in strict mode as it prevents from using the double backward trick to replace forward "
                 "mode AD.")


def _setup(func, inputs, v, create_graph, strict, name, v_of_outputs):
    """Runs func on the prepared inputs: (inputs tuple?, inputs, v or None, outputs tuple?, outputs)."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    with enable_grad():
        inputs = _prepare(inputs, create_graph, need_graph=True)
        if v is not None:
            _, v = _as_tuple(v, "v", name)
            v = _prepare(v, create_graph, need_graph=False)
            if not v_of_outputs:
                _check_v(v, inputs, inputs_tuple)
        elif v_of_outputs is False and (len(inputs) != 1 or inputs[0].numel() != 1):
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a single "
                               "Tensor with a single element.")
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", name)
        _check_outputs(outputs, strict)
    if v_of_outputs:
        if v is not None:
            _check_v(v, outputs, outputs_tuple)
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single Tensor "
                               "with a single element.")
    return inputs_tuple, inputs, v, outputs_tuple, outputs


def _ones_for(outputs):
    return tuple(_wrap(_core.full(list(o._a.shape), 1.0, "float16", o._a.device)) for o in outputs)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product of func at inputs, as torch.autograd.functional.vjp. v may
    be None only when func returns one single-element tensor. create_graph keeps both differentiable; strict raises
    where an output does not depend on an input."""
    inputs_tuple, inputs, v, outputs_tuple, outputs = _setup(func, inputs, v, create_graph, strict, "vjp", True)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _vjp_of(outputs, inputs, v if v is not None else _ones_for(outputs), create_graph)
        result = _fill(grads, inputs, strict, create_graph, _BACK, _BACK_GRAPH)
    return _unpack(_finish(outputs, create_graph), outputs_tuple), _unpack(_finish(result, create_graph), inputs_tuple)


def _double_vjp(outputs, inputs, create_graph):
    """(u, J^T u) for zeros u of the outputs' shapes that require grad: J^T u is linear in u, so its vjp with v is J v
    (the double-vjp trick: forward-mode products from two reverse passes)."""
    us = []
    for o in outputs:
        u = _zeros_like(o)
        u.requires_grad = True
        us.append(u)
    return tuple(us), _vjp_of(outputs, inputs, us, create_graph=True)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, as torch.autograd.functional.jvp, computed by the double-vjp
    trick (two reverse passes; see the module docstring). v may be None only for one single-element input."""
    inputs_tuple, inputs, v, outputs_tuple, outputs = _setup(func, inputs, v, create_graph, strict, "jvp", False)
    with enable_grad():
        us, grad_inputs = _double_vjp(outputs, inputs, create_graph)
        if strict:
            for i, g in enumerate(grad_inputs):
                if g is None:
                    raise RuntimeError(_BACK.format(i=i))
                if not g.requires_grad:
                    raise RuntimeError(f"The gradient with respect to input {i} is independent of the inputs of the "
                                       "user-provided function. This is not allowed in strict mode.")
    present = [(g, t) for g, t in zip(grad_inputs, v if v is not None else _ones_for(inputs)) if g is not None]
    with set_grad_enabled(create_graph):
        if present:
            grads = _grad([g for g, _ in present], us, [t for _, t in present], create_graph=create_graph,
                          allow_unused=True)
        else:
            grads = (None,) * len(us)
        result = _fill(grads, outputs, strict, create_graph, _TRICK, _BACK_GRAPH)
    return _unpack(_finish(outputs, create_graph), outputs_tuple), _unpack(_finish(result, create_graph), outputs_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs, as torch.autograd.functional.jacobian: for one input and one output a tensor
    of shape output.shape + input.shape; a tuple over inputs where inputs is a tuple, and over outputs where func
    returns a tuple (outputs outermost). Built row by row, one backward pass per output element, whatever
    `vectorize` says (there is no batched backward here to vectorize over; the result is the same). strategy
    "forward-mode" is PyTorch's forward AD, which exists here only through reverse passes: it gives the same Jacobian
    by the rows, and keeps PyTorch's rules for it (vectorize=True needed, no create_graph or strict)."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has '
                         'more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to '
                         'use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and `strategy="forward-'
                                      'mode"` are not supported together (yet). Please either set `create_graph=False` '
                                      'or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are '
                               'not supported together (yet). Please either set `strict=False` or `strategy="reverse-'
                               'mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is only "
                                      "implemented for `vectorize=True`.")
    if vectorize and strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported "
                           "together. Please either set `strict=False` or `vectorize=False`.")
    inputs_tuple, inputs, _, outputs_tuple, outputs = _setup(func, inputs, None, create_graph, strict, "jacobian", None)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        per_output = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            with enable_grad():  # the rows' roots, in the graph
                elements = list(out.reshape(-1).unbind(0)) if out.numel() else []
            for element in elements:
                grads = _vjp_of((element,), inputs, _ones_for((element,)), create_graph, retain_graph=True)
                for k, g in enumerate(grads):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input {k}. "
                                               "This is not allowed in strict mode.")
                        g = _zeros_like(inputs[k])
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                           "This is not allowed in strict mode when create_graph=True.")
                    rows[k].append(g)
            per_output.append(tuple(_rows_to_jacobian(r, out, t) for r, t in zip(rows, inputs)))
    result = _finish(tuple(per_output), create_graph)
    if not inputs_tuple:
        result = tuple(r[0] for r in result)
    return result if outputs_tuple else result[0]


def _rows_to_jacobian(rows, out, inp):
    if not rows:  # an empty output
        return _wrap(_core.full(list(out.shape) + list(inp.shape), 0.0, "float16", inp._a.device))
    return stack(rows, 0).reshape(tuple(out.shape) + tuple(inp.shape))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of func (which returns one single-element tensor) at inputs, as
    torch.autograd.functional.hessian: the Jacobian of its gradient, of shape input.shape + input.shape, or a tuple of
    tuples over pairs of inputs. vectorize and outer_jacobian_strategy as for jacobian (row by row either way)."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single(*xs):
        out = func(*xs)
        out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_outputs(outs, strict)
        if out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def gradient(*xs):
        jac = jacobian(single, xs, create_graph=True)
        if strict:
            for i, g in enumerate(jac):
                if not g.requires_grad:
                    raise RuntimeError("While computing the hessian, found that the jacobian of the user-provided "
                                       f"function with respect to input {i} is independent of the input. This is not "
                                       "allowed in strict mode. You should ensure that your function is twice "
                                       "differentiable and that the jacobian depends on the inputs (this would be "
                                       "violated by a linear function for example).")
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)
    return result if inputs_tuple else result[0][0]


def _second_order(func, inputs, v, create_graph, strict, name):
    """(inputs tuple?, inputs, v, outputs, the gradient of func at inputs with its graph)."""
    inputs_tuple, inputs, v, outputs_tuple, outputs = _setup(func, inputs, v, create_graph, strict, name, False)
    if outputs_tuple:
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain a single element")
    with enable_grad():
        jac = _vjp_of(outputs, inputs, _ones_for(outputs), create_graph=True)
        if strict:
            for i, g in enumerate(jac):
                if g is None or not g.requires_grad:
                    raise RuntimeError("While computing the hessian, found that the jacobian of the user-provided "
                                       f"function with respect to input {i} is independent of the input. This is not "
                                       "allowed in strict mode. You should ensure that your function is twice "
                                       "differentiable and that the jacobian depends on the inputs (this would be "
                                       "violated by a linear function for example).")
    return inputs_tuple, inputs, v if v is not None else _ones_for(inputs), outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): the vector-Hessian product of a function returning one single-element tensor, as
    torch.autograd.functional.vhp."""
    inputs_tuple, inputs, v, outputs, jac = _second_order(func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        present = [(g, t) for g, t in zip(jac, v) if g is not None]
        grads = (_grad([g for g, _ in present], inputs, [t for _, t in present], create_graph=create_graph,
                       allow_unused=True) if present else (None,) * len(inputs))
        result = _fill(grads, inputs, strict, create_graph, _DOUBLE, _DOUBLE_GRAPH)
    return _finish(outputs[0], create_graph), _unpack(_finish(result, create_graph), inputs_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian-vector product of a function returning one single-element tensor, as
    torch.autograd.functional.hvp, by the double-vjp trick on its gradient (equal to vhp's result wherever the
    Hessian is symmetric)."""
    inputs_tuple, inputs, v, outputs, jac = _second_order(func, inputs, v, create_graph, strict, "hvp")
    present_jac = tuple(g for g in jac if g is not None)
    with enable_grad():
        us, double_back = _double_vjp(present_jac, inputs, create_graph)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        present = [(g, t) for g, t in zip(double_back, v) if g is not None]
        grads = (_grad([g for g, _ in present], us, [t for _, t in present], create_graph=create_graph,
                       allow_unused=True) if present else (None,) * len(us))
        refs = [inp for inp, g in zip(inputs, jac) if g is not None]
        result = list(_fill(grads, refs, strict, create_graph, _DOUBLE_TRICK, _DOUBLE_GRAPH))
        full = [result.pop(0) if g is not None else _zeros_like(inp) for inp, g in zip(inputs, jac)]
    return _finish(outputs[0], create_graph), _unpack(_finish(tuple(full), create_graph), inputs_tuple)
