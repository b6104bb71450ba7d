"""Products of a relation the tuple engine stores with a dense tensor (`Agg[n, d] = Neig(n, n')
Z[n', d]`) run over the relation's tuples, never densifying it: values and gradients against
numpy on random graphs with fresh seeds."""
import random

import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import lang

# Each test runs with the tuple engine on numpy and on engine tensors (the GPU's code, here on the CPU).
pytestmark = pytest.mark.usefixtures("tuple_arrays")



def graph_program(equations, n, d, seed):
    rng = np.random.default_rng(seed)
    edges = np.unique(rng.integers(0, n, size=(3 * n, 2)), axis=0)
    # n * n cells is past what a relation holds densely: the tuple engine stores Neig.
    prog = lang.compile(f"domain Node = 0..{n}\nrelation Neig(a: Node, b: Node)\n"
                        f"tensor Z: float16[{n}, {d}]\n" + equations)
    prog.add_facts("Neig", edges)
    adj = np.zeros((n, n), np.float32)
    adj[edges[:, 0], edges[:, 1]] = 1
    z = rng.standard_normal((n, d)).astype(np.float16)
    return prog, adj, z


def test_sparse_relation_times_dense_tensor(on_device):
    seed = random.randrange(1 << 30)
    prog, adj, z = graph_program("Agg[n, d] = Neig(n, n') Z[n', d]\n"
                                 "Back[n, d] = Z[n', d] Neig(n', n)\n", 2500, 5, seed)
    prog.set("Z", tl.tensor(z))
    prog.run()
    zf = z.astype(np.float32)
    np.testing.assert_allclose(prog["Agg"].numpy().astype(np.float32), adj @ zf, atol=0.02, err_msg=str(seed))
    np.testing.assert_allclose(prog["Back"].numpy().astype(np.float32), adj.T @ zf, atol=0.02, err_msg=str(seed))
    assert "Neig: sparse" in prog.explain() and not prog.runtime.logic.dense_cache


def test_sparse_relation_product_gradient(on_device):
    seed = random.randrange(1 << 30)
    prog, adj, z = graph_program("Agg[n, d] = Neig(n, n') Z[n', d]\n", 2500, 3, seed)
    zt = tl.tensor(z, requires_grad=True)
    prog.set("Z", zt)
    w = np.random.default_rng(seed + 1).standard_normal(z.shape).astype(np.float16)
    (prog.runtime.derived("Agg") * tl.tensor(w)).sum().backward()
    np.testing.assert_allclose(zt.grad.numpy().astype(np.float32), adj.T @ w.astype(np.float32),
                               atol=0.02, err_msg=str(seed))
    assert not prog.runtime.logic.dense_cache

