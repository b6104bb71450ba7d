"""nn.SyncBatchNorm against PyTorch: without a process group it is torch.nn.SyncBatchNorm (PyTorch's falls back to
batch_norm the same way), on inputs of every rank, in training and eval mode; convert_sync_batchnorm swaps it in as
PyTorch's does; and on 3 ranks of tl.distributed (loopback MPI) holding unequal shares of a batch, each rank's
output and input gradient are those of PyTorch's BatchNorm over the whole batch in float64, the weight and bias
gradients summed over the ranks are its gradients, and the running statistics are its."""
import numpy as np
import pytest
import torch

import tensorlogic as tl
from dist_workers import sync_bn_worker
from dist_workers.checks import launch, ranks
from oracle import assert_close_f16, f16_randn, host


@pytest.mark.parametrize("shape", [(6, 3), (5, 3, 4), (4, 3, 3, 5), (3, 2, 2, 3, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_without_a_group_it_is_torchs(rng, shape, affine):
    ours, theirs = tl.nn.SyncBatchNorm(shape[1], momentum=0.3, affine=affine), torch.nn.SyncBatchNorm(
        shape[1], momentum=0.3, affine=affine).double()
    if affine:
        w, b = f16_randn(rng, (shape[1],)), f16_randn(rng, (shape[1],))
        ours.load_state_dict({**ours.state_dict(), "weight": tl.tensor(w), "bias": tl.tensor(b)})
        theirs.load_state_dict({**theirs.state_dict(), "weight": torch.tensor(w), "bias": torch.tensor(b)})
    for training in (True, True, False):
        ours.train(training)
        theirs.train(training)
        x, g = f16_randn(rng, shape, 2.0), f16_randn(rng, shape)
        lx, tx = tl.tensor(x, requires_grad=True), torch.tensor(x.astype(np.float64), requires_grad=True)
        got, want = ours(lx), theirs(tx)
        assert_close_f16(got, want.detach().numpy(), atol=4e-3)
        got.backward(tl.tensor(g))
        want.backward(torch.tensor(g.astype(np.float64)))
        scale = float(np.abs(tx.grad.numpy()).max())
        np.testing.assert_allclose(host(lx.grad), tx.grad.numpy(), rtol=1e-2, atol=1e-2 * scale)
        for name in ("running_mean", "running_var"):
            assert_close_f16(getattr(ours, name), getattr(theirs, name).numpy(), atol=2e-3)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 2


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3), nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)),
                         nn.BatchNorm3d(2, affine=False).eval())


def test_convert_sync_batchnorm_as_torch():
    """Every batch norm at any depth becomes a SyncBatchNorm sharing its parameters and buffers, with its options
    and mode; a batch norm itself is returned converted."""
    ours, theirs = (lib.nn.SyncBatchNorm.convert_sync_batchnorm(_model(lib)) for lib in (tl, torch))
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [(m.affine, m.training, m.num_features) for m in ours.modules() if isinstance(m, tl.nn.SyncBatchNorm)] == \
        [(m.affine, m.training, m.num_features) for m in theirs.modules() if isinstance(m, torch.nn.SyncBatchNorm)]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    bn = tl.nn.BatchNorm2d(3)
    synced = tl.nn.SyncBatchNorm.convert_sync_batchnorm(bn)
    assert isinstance(synced, tl.nn.SyncBatchNorm) and synced.weight is bn.weight
    assert synced.running_mean is bn.running_mean and synced.num_batches_tracked is bn.num_batches_tracked
    assert tl.nn.modules.batchnorm.SyncBatchNorm is tl.nn.SyncBatchNorm and tl.nn.SyncBatchNorm(3, bias=False).bias \
        is None


def test_errors_as_torch():
    for lib in (tl, torch):
        with pytest.raises(ValueError, match="expected at least 2D input"):
            lib.nn.SyncBatchNorm(3)(lib.zeros(3))
        with pytest.raises(ValueError, match="channels should be non-zero"):
            lib.nn.SyncBatchNorm(0)(lib.zeros(2, 0))


@pytest.mark.skipif(not tl.distributed.is_mpi_available(), reason="tl.distributed's MPI engine needs mpi4py")
def test_three_ranks_normalize_by_the_whole_batch(tmp_path, rng):
    seed, shape, nproc = int(rng.integers(2 ** 30)), (10, 3, 4), 3
    done = launch(nproc, "sync_bn_worker.py", seed, tmp_path, *shape)
    assert done.returncode == 0, done.stderr[-3000:]
    got = ranks(tmp_path, nproc)
    xs, gs, weight, bias = sync_bn_worker.data(seed, shape)
    bn = torch.nn.BatchNorm1d(shape[1]).double()
    bn.load_state_dict({**bn.state_dict(), "weight": torch.tensor(weight), "bias": torch.tensor(bias)})
    for s in range(sync_bn_worker.STEPS):
        x = torch.tensor(xs[s].astype(np.float64), requires_grad=True)
        bn.zero_grad()
        y = bn(x)
        y.backward(torch.tensor(gs[s].astype(np.float64)))
        for r in range(nproc):
            mine = sync_bn_worker.rows(r, nproc, shape[0])
            assert_close_f16(got[r][f"{s}/y"], y.detach().numpy()[mine], atol=4e-3)
            scale = float(np.abs(x.grad.numpy()).max())
            np.testing.assert_allclose(got[r][f"{s}/x_grad"], x.grad.numpy()[mine], rtol=1e-2, atol=1e-2 * scale)
            for name in ("running_mean", "running_var"):
                assert_close_f16(got[r][f"{s}/{name}"], getattr(bn, name).numpy(), atol=2e-3)
        for name, want in (("weight_grad", bn.weight.grad), ("bias_grad", bn.bias.grad)):
            summed = sum(got[r][f"{s}/{name}"].astype(np.float64) for r in range(nproc))
            np.testing.assert_allclose(summed, want.numpy(), rtol=1e-2, atol=1e-2 * float(np.abs(want.numpy()).max()))
