"""tl.func's differentiation transforms (torch.func's grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian), built
on the tape: each call runs the function once with the differentiated arguments lifted into the graph and takes
reverse passes through it.

Lifting: an argument that requires grad (with grad mode on at the call) passes through an Alias node, so results stay
differentiable back to it; any other argument becomes a fresh leaf on its memory. Results keep a graph only where
the function's value reaches a tensor requiring grad that this call did not make (the argument itself, a parameter
it captured, the leaf of an enclosing transform): that is what lets transforms nest (hessian is jacfwd of jacrev) and
MAML's outer loss differentiate through an inner grad, while a plain call returns tensors without history.
Forward mode (jvp, jacfwd) is the double-vjp trick: for u of the outputs' shapes requiring grad, g(u) = J^T u is
linear in u, so the vjp of g with a tangent t is J t; so jvp costs two reverse passes, and jacfwd one more reverse
pass per input element."""
import functools
import numbers

import numpy as np

from .. import _core
from ..autograd.alias import Alias
from ..autograd.api import grad as _grad
from ..autograd.grad_mode import enable_grad, grad_enabled, set_grad_enabled
from ..ops.shape import stack
from ..tensor import Tensor, _wrap
from ..utils._pytree import tree_flatten, tree_unflatten
from .batching import _RANDOM_ERROR, _check_randomness

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian"]


def _zeros_like(t):
    return _wrap(_core.full(list(t._a.shape), 0.0, "float16", t._a.device))


def _lift(x, outer, own):
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if not x.is_floating_point():
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    if outer and x.requires_grad:
        return Alias.apply(x)
    leaf = _wrap(x._a)
    leaf.requires_grad = True
    own.add(id(leaf))
    return leaf


def _reaches_other_leaves(tensors, own):
    """Whether the graph of `tensors` reaches a leaf requiring grad that is not in `own` (ids)."""
    stack_, seen = [], set()
    for t in tensors:
        if isinstance(t, Tensor) and t.requires_grad:
            if t.grad_fn is None:
                if id(t) not in own:
                    return True
            else:
                stack_.append(t.grad_fn)
    while stack_:
        node = stack_.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.next:
            if edge is None:
                continue
            if isinstance(edge, Tensor):
                if id(edge) not in own:
                    return True
            else:
                stack_.append(edge)
    return False


def _bound(func, kwargs):
    """func with the keyword arguments of a call fixed (they are passed through, not differentiated)."""
    return functools.partial(func, **kwargs) if kwargs else func


def _argnums(argnums, nargs):
    """argnums as a tuple of non-negative ints, with torch.func's errors."""
    if isinstance(argnums, tuple):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        items = argnums
    else:
        items = (argnums,)
    for a in items:
        if not isinstance(a, numbers.Integral) or isinstance(a, bool):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not -nargs <= a < nargs:
            raise RuntimeError(f"Got argnum={a}, but only {nargs} positional inputs")
    return tuple(int(a) % nargs for a in items)


class _Call:
    """One run of the function with the arguments at argnums lifted: the lifted leaves (flat), their specs per
    argnum, the output (and aux) and whether results keep a graph."""

    def __init__(self, func, args, argnums, has_aux, who):
        self.outer = grad_enabled()
        self.own = set()
        self.argnums = _argnums(argnums, len(args))
        self.single = not isinstance(argnums, tuple)
        args = list(args)
        self.inputs, self.specs = [], []
        with enable_grad():
            for i in self.argnums:
                leaves, spec = tree_flatten(args[i])
                lifted = [_lift(x, self.outer, self.own) for x in leaves]
                self.inputs.extend(lifted)
                self.specs.append((spec, len(lifted)))
                args[i] = tree_unflatten(lifted, spec)
            out = func(*args)
        self.aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise RuntimeError(f"{who}: output of function f should be a tuple: (output, aux) if has_aux is True")
            out, self.aux = out
        self.out = out
        self.out_leaves, self.out_spec = tree_flatten(out)
        self.keep = self.outer and _reaches_other_leaves(self.out_leaves, self.own)

    def check_tensor_outputs(self, who):
        for o in self.out_leaves:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"{who}: expected f(*primals) to return only tensors, got unsupported type "
                                   f"{type(o)}")

    def finished(self, tree):
        """tree with its tensors detached unless results keep a graph."""
        if self.keep:
            return tree
        leaves, spec = tree_flatten(tree)
        return tree_unflatten([t.detach() if isinstance(t, Tensor) else t for t in leaves], spec)

    def per_argnum(self, flat):
        """The values for the lifted leaves (flat) as the arguments' trees: one tree, or a tuple over argnums."""
        trees, at = [], 0
        for spec, n in self.specs:
            trees.append(tree_unflatten(flat[at:at + n], spec))
            at += n
        return trees[0] if self.single else tuple(trees)

    def vjp(self, roots, cotangents, create_graph):
        """The gradients of the lifted leaves (zeros where unreached) for cotangents of the roots."""
        pairs = [(r, c) for r, c in zip(roots, cotangents) if r.requires_grad]
        if pairs:
            grads = _grad([r for r, _ in pairs], self.inputs, [c for _, c in pairs], retain_graph=True,
                          create_graph=create_graph, allow_unused=True)
        else:
            grads = (None,) * len(self.inputs)
        return [g if g is not None else _zeros_like(x) for g, x in zip(grads, self.inputs)]


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (the gradient of func w.r.t. the arguments at argnums, func's value), as
    torch.func.grad_and_value: func returns a 0-d tensor (or (it, aux) with has_aux, then the value is (it, aux));
    an argument may be a tensor or a tuple/list/dict of them (the gradient has its structure)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        call = _Call(_bound(func, kwargs), args, argnums, has_aux, "grad_and_value(f)(*args)")
        out = call.out
        if not isinstance(out, Tensor):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(out)}")
        if out.ndim != 0:
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor "
                               f"with {out.ndim} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
        with set_grad_enabled(call.keep):
            grads = call.vjp([out], [_wrap(_core.full([], 1.0, "float16", out._a.device))], call.keep)
        value = call.finished(out)
        if has_aux:
            value = (value, call.finished(call.aux))
        return call.finished(call.per_argnum(grads)), value

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of func (which returns a 0-d tensor) w.r.t. the arguments at argnums, as
    torch.func.grad; with has_aux, func returns (value, aux) and the result is (gradient, aux)."""
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradient, value = inner(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]), as torch.func.vjp: vjp_fn(cotangents) returns a tuple with one gradient per
    primal (each with the primal's structure) for cotangents of the outputs' structure; it may be called again."""
    call = _Call(func, primals, tuple(range(len(primals))) if primals else 0, has_aux, "vjp(f, *primals)")
    call.check_tensor_outputs("vjp(f, *primals)")

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=None):
        leaves, spec = tree_flatten(cotangents)
        if spec != call.out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of outputs "
                               f"to the function. cotangents: {spec}, primal output: {call.out_spec}")
        for i, (c, o) in enumerate(zip(leaves, call.out_leaves)):
            if not isinstance(c, Tensor):
                raise ValueError(f"Thing passed to transform API must be Tensor, got {type(c)}")
            if c.shape != o.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {list(c.shape)} and "
                                   f"output[{i}] has a shape of {list(o.shape)}.")
        if create_graph is None:
            create_graph = grad_enabled() and (call.keep or any(c.requires_grad for c in leaves))
        with set_grad_enabled(create_graph):
            grads = call.vjp(call.out_leaves, leaves, create_graph)
        if not create_graph:
            grads = [g.detach() for g in grads]
        result = call.per_argnum(grads)
        return result if isinstance(result, tuple) else (result,)

    out = call.finished(call.out)
    return (out, vjp_fn, call.finished(call.aux)) if has_aux else (out, vjp_fn)


def _forward_products(call, tangent_columns):
    """J t for each tangent (a list over the lifted leaves, None for zeros) by the double-vjp trick: per tangent, a
    list over the output leaves."""
    with enable_grad():
        us = []
        for o in call.out_leaves:
            u = _zeros_like(o)
            u.requires_grad = True
            us.append(u)
        pairs = [(o, u) for o, u in zip(call.out_leaves, us) if o.requires_grad]
        if pairs:
            g = _grad([o for o, _ in pairs], call.inputs, [u for _, u in pairs], retain_graph=True, create_graph=True,
                      allow_unused=True)
        else:
            g = (None,) * len(call.inputs)
    results = []
    for tangents in tangent_columns:
        present = [(gi, t) for gi, t in zip(g, tangents) if gi is not None and t is not None]
        if present:
            with set_grad_enabled(call.keep):
                cols = _grad([gi for gi, _ in present], us, [t for _, t in present], retain_graph=True,
                             create_graph=call.keep, allow_unused=True)
        else:
            cols = (None,) * len(us)
        results.append([c if c is not None else _zeros_like(o) for c, o in zip(cols, call.out_leaves)])
    return results


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J tangents[, aux]), as torch.func.jvp: primals and tangents are tuples of the same structure
    and shapes. Computed by the double-vjp trick (two reverse passes; see the module docstring). strict is accepted
    and, as in PyTorch, changes nothing."""
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be valid to call "
                           "f(*primals).")
    if not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected tangents to be a tuple. E.g. it should be valid to "
                           "call f(*primals).")
    p_leaves, p_spec = tree_flatten(primals)
    t_leaves, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python "
                           f"structure. For example, if primals is a tuple of 3 tensors, tangents also must be. Got "
                           f"primals with structure {p_spec} and tangents with structure {t_spec}")
    for p, t in zip(p_leaves, t_leaves):
        if not isinstance(t, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(t)}")
        if not t.is_floating_point():
            raise ValueError(f"Expected tangent to be floating point or complex, but got: {t.dtype}")
        if isinstance(p, Tensor) and p.shape != t.shape:
            raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                               f"Tensor, this is not supported. Tensor is of size {list(p.shape)} while the given "
                               f"forward gradient is of size {list(t.shape)}.")
    call = _Call(func, primals, tuple(range(len(primals))) if primals else 0, has_aux, "jvp(f, primals, tangents)")
    call.check_tensor_outputs("jvp(f, primals, tangents)")
    call.keep = call.keep or (call.outer and any(t.requires_grad for t in t_leaves))
    (columns,) = _forward_products(call, [t_leaves])
    out, jvp_out = call.finished(call.out), call.finished(tree_unflatten(columns, call.out_spec))
    return (out, jvp_out, call.finished(call.aux)) if has_aux else (out, jvp_out)


def _jacobian_tree(call, per_out):
    """The result's structure: the output's tree, each leaf holding the inputs' trees (per argnum) of Jacobians;
    per_out[i][k] is the Jacobian of output leaf i w.r.t. lifted leaf k."""
    return tree_unflatten([call.finished(call.per_argnum(row)) for row in per_out], call.out_spec)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """A function returning the Jacobian of func w.r.t. the arguments at argnums by reverse mode, as
    torch.func.jacrev: for an output o and an input x, a tensor of shape o.shape + x.shape, laid out as the outputs'
    structure holding the inputs' (a tuple over argnums when argnums is a tuple). One reverse pass per output element;
    chunk_size (None or > 0) is accepted and changes nothing, the rows being computed one at a time anyway."""
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        call = _Call(_bound(func, kwargs), args, argnums, has_aux, "vjp(f, *primals)")
        call.check_tensor_outputs("vjp(f, *primals)")
        per_out = []
        for o in call.out_leaves:
            rows = [[] for _ in call.inputs]
            one = _wrap(_core.full([], 1.0, "float16", o._a.device))
            with enable_grad():  # the rows' roots, in the graph (a backward pass sets grad mode itself)
                elements = list(o.reshape(-1).unbind(0)) if o.numel() else []
            for element in elements:
                for k, g in enumerate(call.vjp([element], [one], call.keep)):
                    rows[k].append(g)
            per_out.append([_stack_rows(r, o.shape, x.shape, x) for r, x in zip(rows, call.inputs)])
        result = _jacobian_tree(call, per_out)
        return (result, call.finished(call.aux)) if has_aux else result

    return wrapper


def _stack_rows(rows, out_shape, in_shape, like):
    shape = tuple(out_shape) + tuple(in_shape)
    if not rows:
        return _wrap(_core.full(list(shape), 0.0, "float16", like._a.device))
    return stack(rows, 0).reshape(shape)


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """A function returning the Jacobian of func w.r.t. the arguments at argnums, as torch.func.jacfwd (same layout
    as jacrev). Forward mode here is the double-vjp trick: one reverse pass per input element through the backward
    graph (see the module docstring). func runs once, so random numbers are shared by every column: randomness
    "same" is that; "error" (the default) raises where func draws random numbers, as PyTorch does; "different"
    raises there too, each column's own numbers not being available."""
    _check_randomness(randomness)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        before = _core.random_state()
        call = _Call(_bound(func, kwargs), args, argnums, has_aux, "jvp(f, primals, tangents)")
        call.check_tensor_outputs("jvp(f, primals, tangents)")
        if randomness != "same" and _core.random_state() != before:
            if randomness == "error":
                raise RuntimeError(_RANDOM_ERROR)
            raise NotImplementedError("jacfwd(randomness='different'): func runs once here (forward mode is the "
                                      "double-vjp trick), so its columns share one draw of random numbers; use "
                                      "randomness='same'")
        columns = []
        for k, x in enumerate(call.inputs):
            for e in range(x.numel()):
                columns.append([_one_hot(x, e) if i == k else None for i in range(len(call.inputs))])
        products = _forward_products(call, columns)
        per_out = []
        for i, o in enumerate(call.out_leaves):
            row, at = [], 0
            for x in call.inputs:
                cols = [products[at + e][i] for e in range(x.numel())]
                at += x.numel()
                row.append(_stack_columns(cols, o.shape, x.shape, x))
            per_out.append(row)
        result = _jacobian_tree(call, per_out)
        return (result, call.finished(call.aux)) if has_aux else result

    return wrapper


def _one_hot(like, index):
    """Zeros of like's shape and device with a one at flat position `index`."""
    host = np.zeros(like.numel(), dtype=np.float16)
    host[index] = 1.0
    array = _core.from_numpy(host.reshape(tuple(like.shape)))
    return _wrap(array if like._a.device == "cpu" else _core.to_device(array, like._a.device))


def _stack_columns(cols, out_shape, in_shape, like):
    """Columns J e_j (each of out_shape) as the Jacobian of shape out_shape + in_shape."""
    shape = tuple(out_shape) + tuple(in_shape)
    if not cols:
        return _wrap(_core.full(list(shape), 0.0, "float16", like._a.device))
    stacked = stack(cols, -1)  # out_shape + (numel,)
    return stacked.reshape(shape)


def hessian(func, argnums=0):
    """A function returning the Hessian of func w.r.t. the arguments at argnums, as torch.func.hessian:
    jacfwd(jacrev(func, argnums), argnums) (for a 0-d output and an input x, of shape x.shape + x.shape)."""
    return jacfwd(jacrev(func, argnums), argnums)
