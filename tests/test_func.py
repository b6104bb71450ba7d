"""tl.func against torch.func (float64 on the same f16 inputs): the differentiation transforms with their pytree
layouts and nesting, vmap's semantics (looping), functional_call (and nn.utils.stateless's deprecated form) and
stack_module_state; a MAML-style meta-gradient and a model ensemble; errors in PyTorch's words."""
import re
from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pytest
import torch

import tensorlogic as tl
from oracle import assert_tree_close as _close, f16_pairs as _pair, f16_randn
from tensorlogic.utils._pytree import broadcast_prefix, tree_flatten, tree_unflatten

TF = torch.func


def _loss(lib):
    def f(params, x, scale=1.0):
        h = lib.tanh(x @ params["w"] + params["b"])
        return (h * h).sum() * scale, h
    return f


def test_grad_vjp_jvp_with_trees_and_aux(device, rng):
    (w, b, x, u), (tw, tb, tx, tu) = _pair(rng, device, (3, 4), (4,), (2, 3), (2, 4))
    p, tp = {"w": w, "b": b}, {"w": tw, "b": tb}
    got = tl.func.grad(_loss(tl), argnums=(0, 1), has_aux=True)(p, x, scale=0.5)
    want = TF.grad(_loss(torch), argnums=(0, 1), has_aux=True)(tp, tx, scale=0.5)
    _close(got, want, what="grad")
    assert not got[0][0]["w"].requires_grad
    _close(tl.func.grad_and_value(lambda a: (a.exp() * a).sum())(x),
           TF.grad_and_value(lambda a: (a.exp() * a).sum())(tx), what="grad_and_value")
    out, fn = tl.func.vjp(lambda q, a: _loss(tl)(q, a)[1], p, x)
    t_out, t_fn = TF.vjp(lambda q, a: _loss(torch)(q, a)[1], tp, tx)
    _close(out, t_out, what="vjp out")
    _close(fn(u), t_fn(tu), what="vjp")
    _close(fn(u * 2.0), t_fn(tu * 2.0), what="vjp again")
    (dw, db, dx), (tdw, tdb, tdx) = _pair(rng, device, (3, 4), (4,), (2, 3))
    _close(tl.func.jvp(lambda q, a: _loss(tl)(q, a), (p, x), ({"w": dw, "b": db}, dx)),
           TF.jvp(lambda q, a: _loss(torch)(q, a), (tp, tx), ({"w": tdw, "b": tdb}, tdx)), what="jvp")


def test_jacobians_hessian_and_nesting(device, rng):
    (x, y), (tx, ty) = _pair(rng, device, (3,), (2,))

    def f(lib):
        return lambda a, b: {"p": lib.sin(a)[:2] * b, "s": (a * a).sum() * b.exp().sum()}

    _close(tl.func.jacrev(f(tl), argnums=(0, 1))(x, y), TF.jacrev(f(torch), argnums=(0, 1))(tx, ty), what="jacrev")
    _close(tl.func.jacfwd(f(tl), argnums=1)(x, y), TF.jacfwd(f(torch), argnums=1)(tx, ty), what="jacfwd")
    g = lambda lib: (lambda a: (lib.sin(a) * a.exp()).sum())  # noqa: E731
    _close(tl.func.hessian(g(tl))(x), TF.hessian(g(torch))(tx), rtol=2e-2, what="hessian")
    _close(tl.func.grad(tl.func.grad(lambda a: a.sin() * a * a))(x[0]),
           TF.grad(TF.grad(lambda a: a.sin() * a * a))(tx[0]), what="grad of grad")
    _close(tl.func.vmap(tl.func.jacrev(lambda a: a.tanh() * a.sum()))(x.reshape(3, 1) * y),
           TF.vmap(TF.jacrev(lambda a: a.tanh() * a.sum()))(tx.reshape(3, 1) * ty), what="vmap of jacrev")
    # a captured tensor that requires grad keeps the result in its graph, as under PyTorch
    c = x.detach().requires_grad_()
    grad_c = tl.func.grad(lambda a: (a * c).sum())(y.sum().reshape(1))
    assert grad_c.requires_grad
    grad_c.sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), np.ones(3))


def test_transform_results_differentiate_by_gradcheck(device, rng):
    """The results of grad, jvp and vmap as functions of their input requiring grad: gradcheck holds their gradients
    against PyTorch's float64 derivatives of the same transforms."""
    x = tl.tensor(f16_randn(rng, (2, 3), 0.7), device=device).requires_grad_()
    v = f16_randn(rng, (2, 3))
    tv = torch.tensor(v.astype(np.float64))
    cases = [
        (lambda t: tl.func.grad(lambda y: (y.sin() * y).sum())(t), lambda t: TF.grad(lambda y: (y.sin() * y).sum())(t)),
        (lambda t: tl.func.jvp(lambda y: y.tanh() * y.sum(), (t,), (tl.tensor(v, device=device),))[1],
         lambda t: TF.jvp(lambda y: y.tanh() * y.sum(), (t,), (tv,))[1]),
        (lambda t: tl.func.vmap(lambda r: r.exp() / r.exp().sum())(t), lambda t: TF.vmap(lambda r: r.softmax(0))(t)),
    ]
    for ours, theirs in cases:
        assert tl.autograd.gradcheck(ours, (x,), reference=lambda t: theirs(torch.tensor(t)).detach().numpy())


def test_vmap_semantics(device, rng):
    (a, b, m), (ta, tb, tm) = _pair(rng, device, (4, 3), (3, 5, 4), (3, 2))

    def f(lib):
        return lambda x, y, z, k=1.0: (x @ z * k, y.sum(0), "tag")

    args = dict(in_dims=(0, 2, None), out_dims=(1, -1, None))
    got = tl.func.vmap(f(tl), **args, chunk_size=2)(a, b, m, k=2.0)
    want = TF.vmap(f(torch), **args)(ta, tb, tm, k=2.0)
    assert got[2] == want[2] == "tag"
    _close(got[:2], want[:2], what="in_dims/out_dims")
    nested = tl.func.vmap(tl.func.vmap(lambda x, y: x * y, in_dims=(0, None)), in_dims=(None, 0))(a[0], b[0])
    _close(nested, TF.vmap(TF.vmap(lambda x, y: x * y, in_dims=(0, None)), in_dims=(None, 0))(ta[0], tb[0]),
           what="nested")
    _close(tl.func.vmap(lambda d: d["u"] * d["v"], in_dims=({"u": 0, "v": 1},))({"u": a[:3], "v": a[:3].T}),
           TF.vmap(lambda d: d["u"] * d["v"], in_dims=({"u": 0, "v": 1},))({"u": ta[:3], "v": ta[:3].T}), what="trees")
    assert tl.func.vmap(lambda x: x * 2)(tl.zeros(0, 3, device=device)).shape == (0, 3)
    # autograd through the loop, and per-sample gradients
    w = a[0].detach().requires_grad_()
    tl.func.vmap(lambda x: (x * w).tanh().sum())(m.T).sum().backward()
    tw = ta[0].detach().requires_grad_()
    TF.vmap(lambda x: (x * tw).tanh().sum())(tm.T).sum().backward()
    _close(w.grad, tw.grad, what="backward through vmap")
    per_sample = tl.func.vmap(tl.func.grad(lambda q, x: (q * x).sin().sum()), in_dims=(None, 0))(a[0], m.T)
    _close(per_sample, TF.vmap(TF.grad(lambda q, x: (q * x).sin().sum()), in_dims=(None, 0))(ta[0], tm.T),
           what="per-sample grads")
    assert tl.vmap is tl.func.vmap


def test_vmap_batch_size_mismatch_is_a_shape_error(device):
    with pytest.raises(tl.ShapeMismatchError, match=r"got sizes \[2, 3\] for the mapped dimension"):
        tl.func.vmap(lambda x, y: x + y)(tl.ones(2, device=device), tl.ones(3, 4, device=device))


def test_vmap_randomness(device):
    x = tl.zeros(4, 3, device=device)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        tl.func.vmap(lambda r: r + tl.rand(3, device=device))(x)
    same = tl.func.vmap(lambda r: r + tl.rand(3, device=device), randomness="same")(x).numpy()
    assert (same == same[0]).all()
    different = tl.func.vmap(lambda r: r + tl.rand(3, device=device), randomness="different")(x).numpy()
    assert len({row.tobytes() for row in different}) == 4
    # an array was compared with `in` and leaked numpy's 'truth value ... is ambiguous' (tests/fuzz_ops.py)
    for bad, error in ((np.zeros((2, 3)), TypeError), ("sometimes", RuntimeError)):
        for transform in (tl.func.vmap, tl.func.jacfwd):
            with pytest.raises(error, match="randomness"):
                transform(lambda r: r, randomness=bad)


def test_functional_call_swaps_without_copy_and_restores(device, rng):
    model = tl.nn.Sequential(tl.nn.Linear(3, 4), tl.nn.ReLU(), tl.nn.Linear(4, 2)).to(device)
    model.register_buffer("scale", tl.ones(1, device=device))
    own = dict(model.named_parameters())
    new = {k: (v * 2.0).detach().requires_grad_() for k, v in own.items()}
    seen = []
    model[0].register_forward_pre_hook(lambda mod, args: seen.append(mod.weight))
    x = tl.tensor(f16_randn(rng, (5, 3)), device=device)
    out = tl.func.functional_call(model, (new, {"scale": tl.zeros(1, device=device)}), x)
    assert seen[-1] is new["0.weight"]  # the given tensor itself, not a copy
    out.sum().backward()
    assert new["2.weight"].grad is not None and own["2.weight"].grad is None
    assert dict(model.named_parameters()) == own and model.scale.numpy()[0] == 1.0

    class Boom(Exception):
        pass

    def fail(mod, args):
        raise Boom

    handle = model[2].register_forward_pre_hook(fail)
    with pytest.raises(Boom):
        tl.func.functional_call(model, new, (x,))
    handle.remove()
    assert [(k, id(v)) for k, v in model.named_parameters()] == [(k, id(v)) for k, v in own.items()]

    tied = tl.nn.Sequential(tl.nn.Linear(2, 2, bias=False), tl.nn.Linear(2, 2, bias=False)).to(device)
    tied[1].weight = tied[0].weight
    w = tl.eye(2, device=device)
    out = tl.func.functional_call(tied, {"0.weight": w}, (tl.ones(1, 2, device=device),))
    np.testing.assert_array_equal(out.numpy(), [[1.0, 1.0]])  # both layers took the identity


def _counting(lib):
    """A module that reassigns a buffer in forward (a running count), as torch.nn.utils.stateless's docs show."""
    class Counting(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 2)
            self.register_buffer("count", lib.zeros(()))

        def forward(self, x, shift=0.0):
            self.count = self.count + 1
            return self.lin(x) * self.count + shift

    return Counting()


def test_functional_call_hands_back_reassigned_buffers_and_the_deprecated_form(device, rng):
    """A buffer the module reassigns during the call comes back in the caller's dict (not in a merged list of dicts),
    as PyTorch's; torch.nn.utils.stateless.functional_call is the same call with PyTorch's FutureWarning, kwargs
    passed through, gradients reaching the given tensors."""
    (w, b, x), (tw, tb, tx) = _pair(rng, device, (2, 3), (2,), (4, 3))
    ours, theirs = _counting(tl).to(device), _counting(torch).double()
    results = []
    for lib, module, weight, bias, inp in ((tl, ours, w, b, x), (torch, theirs, tw, tb, tx)):
        one, zero = (lib.full((), v).to(inp) for v in (1.0, 0.0))  # (.to(tensor): its dtype and device)
        given = {"lin.weight": weight.requires_grad_(), "lin.bias": bias, "count": one}
        with pytest.warns(FutureWarning, match="torch.func.functional_call"):
            out = lib.nn.utils.stateless.functional_call(module, given, inp, {"shift": 0.5})
        out.sum().backward()
        merged = ({"lin.weight": weight, "lin.bias": bias}, {"count": zero})
        lib.func.functional_call(module, merged, (inp,))
        results.append((out, weight.grad, given["count"], merged[1]["count"], module.count))
    _close(*results, what="output, gradient and the counts")
    assert [float(c) for c in results[0][2:]] == [2.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="dict"), pytest.warns(FutureWarning):
        tl.nn.utils.stateless.functional_call(ours, [{"count": one}], x)


def test_pytree_round_trip_and_prefixes():
    Pair = namedtuple("Pair", "a b")
    tree = (OrderedDict(x=1, y=[2, None]), defaultdict(list, {"k": Pair(3, 4)}), {"z": 5}, "leaf")
    leaves, spec = tree_flatten(tree)
    assert leaves == torch.utils._pytree.tree_flatten(tree)[0] == [1, 2, None, 3, 4, 5, "leaf"]  # None: a leaf
    back = tree_unflatten(leaves, spec)
    assert back == tree and type(back[0]) is OrderedDict and back[1].default_factory is list
    assert broadcast_prefix((0, None, {"z": 1}, 2), spec) == [0, 0, 0, None, None, 1, 2]
    assert broadcast_prefix((0, 1), spec) is None


def _errors_match(ours, theirs):
    with pytest.raises(Exception) as want:
        theirs()
    with pytest.raises(Exception) as got:
        ours()

    def norm(message):  # PyTorch prints tree specs and shapes its own way: compared up to them
        return re.sub(r"TreeSpec\(.*|\s+", "", re.sub(r"torch\.Size\((\[[^\]]*\])\)", r"\1", str(message)))

    assert issubclass(got.type, want.type), (got.type, want.type)
    assert norm(got.value) == norm(want.value), (str(got.value), str(want.value))


@pytest.mark.parametrize("case", range(16))
def test_errors_in_pytorchs_words(case):
    def calls(lib, F):
        one, two, three = lib.ones(1), lib.arange(2.0), lib.ones(3)
        lin = lib.nn.Linear(2, 2)
        return [
            lambda: F.vmap(lambda x, y: x + y)(two, three),
            lambda: F.vmap(lambda x, y: x, in_dims=(0, 0))(two, 3),
            lambda: F.vmap(lambda x: x, in_dims=2)(two),
            lambda: F.vmap(lambda x: x, in_dims=[0])(two),
            lambda: F.vmap(lambda x: 3)(two),
            lambda: F.vmap(lambda x: x, out_dims=None)(two),
            lambda: F.vmap(lambda x: x, chunk_size=0)(two),
            lambda: F.grad(lambda x: x)(three),
            lambda: F.grad(lambda x: x.sum(), argnums=(0, 0))(three),
            lambda: F.grad(lambda x: x.sum(), argnums=2)(three),
            lambda: F.jvp(lambda x: x, (three,), (two,)),
            lambda: F.vjp(lambda x: x * 2, three)[1](two),
            lambda: F.functional_call(lin, {"weight": one, "zz": one}, (two,), strict=True),
            lambda: F.functional_call(lin, ({"weight": one}, {"weight": one}), (two,)),
            lambda: F.vmap(lambda x: (x, None))(two),  # (None is a leaf of the outputs, not an empty node)
            lambda: F.vmap(lambda x, y: x, in_dims=(0, 0))(two, None),
        ]
    _errors_match(calls(tl, tl.func)[case], calls(torch, TF)[case])


def _mlp_pair(rng, device):
    ours = tl.nn.Sequential(tl.nn.Linear(2, 8), tl.nn.Tanh(), tl.nn.Linear(8, 1)).to(device)
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    with torch.no_grad():
        for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
            values = f16_randn(rng, tuple(p.shape), 0.6)
            p.data = tl.tensor(values, device=device)
            tp.copy_(torch.tensor(values.astype(np.float64)))
    return ours, theirs


def test_maml_meta_gradient(device, rng):
    """Two inner SGD steps on fast weights through functional_call (gradients with create_graph, once by
    tl.autograd.grad and once by tl.func.grad), then the query loss's gradient w.r.t. the initial weights."""
    model, tmodel = _mlp_pair(rng, device)
    (xs, ys, xq, yq), (txs, tys, txq, tyq) = _pair(rng, device, (6, 2), (6, 1), (5, 2), (5, 1))
    lr = 0.1

    def meta(lib, F, module, params, support, query, use_func):
        fast = dict(params)
        for _ in range(2):
            loss_of = lambda q: ((F.functional_call(module, q, (support[0],)) - support[1]) ** 2).mean()  # noqa
            if use_func:
                grads = F.grad(loss_of)(fast)
            else:
                values = lib.autograd.grad(loss_of(fast), list(fast.values()), create_graph=True)
                grads = dict(zip(fast, values))
            fast = {k: v - lr * grads[k] for k, v in fast.items()}
        return ((F.functional_call(module, fast, (query[0],)) - query[1]) ** 2).mean()

    tparams = dict(tmodel.named_parameters())
    tloss = meta(torch, TF, tmodel, tparams, (txs, tys), (txq, tyq), False)
    want = torch.autograd.grad(tloss, list(tparams.values()))
    for use_func in (False, True):
        params = dict(model.named_parameters())
        loss = meta(tl, tl.func, model, params, (xs, ys), (xq, yq), use_func)
        _close(loss, tloss, what="query loss")
        _close(tuple(tl.autograd.grad(loss, list(params.values()))), want, rtol=3e-2, what=f"meta-gradient {use_func}")


def test_ensemble_with_stack_module_state(device, rng):
    pairs = [_mlp_pair(rng, device) for _ in range(3)]
    params, buffers = tl.func.stack_module_state([p[0] for p in pairs])
    tparams, tbuffers = TF.stack_module_state([p[1] for p in pairs])
    assert params["0.weight"].shape == (3, 8, 2) and params["0.weight"].requires_grad and not buffers
    (x,), (tx,) = _pair(rng, device, (4, 2))
    base, tbase = pairs[0][0], pairs[0][1]
    out = tl.func.vmap(lambda p, b, a: tl.func.functional_call(base, (p, b), (a,)), in_dims=(0, 0, None))(params,
                                                                                                       buffers, x)
    want = TF.vmap(lambda p, b, a: TF.functional_call(tbase, (p, b), (a,)), in_dims=(0, 0, None))(tparams, tbuffers, tx)
    _close(out, want, what="ensemble")
    out.sum().backward()
    want.sum().backward()
    _close(params["2.weight"].grad, tparams["2.weight"].grad, what="ensemble gradient")
