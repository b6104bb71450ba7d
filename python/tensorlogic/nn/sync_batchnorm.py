"""SyncBatchNorm (torch.nn.SyncBatchNorm): a batch norm whose training-mode statistics are those of the whole batch
spread over the ranks of a tl.distributed process group, and convert_sync_batchnorm, which swaps it in for a model's
batch norms. Without an initialised group of more than one rank it is a BatchNorm of any rank of input.

Forward: each rank's per-channel mean and variance (accumulated in f32, rounded to f16) and its element count are
gathered from every rank and combined in float64 on the host (the pooled mean, and the pooled variance as the mean
of the variances plus the spread of the means), as PyTorch's batch_norm_gather_stats_with_counts combines them.
Backward: PyTorch's formula, the sums of dy and dy (x - mean) all-reduced, so every rank's input gradient is that
of the whole batch; the weight and bias gradients are the rank's own (DistributedDataParallel averages them).
Unlike PyTorch's, which refuses CPU tensors when a group is initialised, it syncs on every device
tl.distributed serves (CPU tensors over MPI, CUDA over NCCL). First derivatives only (the collectives are not
differentiable): create_graph through the synced path raises."""
import numpy as np

from .. import distributed as dist
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..creation import tensor, zeros
from ..dtypes import int64
from ..ops.shape import stack
from . import functional as F
from .normalization import _BatchNorm


class _SyncedBatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias with the statistics of every rank's x."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps, momentum, group, world):
        dims = [0] + list(range(2, x.ndim))
        channels = x.shape[1]
        local = stack([x.mean(dims), x.var(dims, unbiased=False)])
        stats = [zeros(2, channels, device=x.device) for _ in range(world)]
        counts = [zeros(1, dtype=int64, device=x.device) for _ in range(world)]
        dist.all_gather(stats, local, group)
        dist.all_gather(counts, tensor([x.numel() // max(channels, 1)], device=x.device), group)
        n = np.array([int(c.item()) for c in counts], np.float64)
        means, variances = (np.stack([s.numpy()[i].astype(np.float64) for s in stats]) for i in (0, 1))
        total = n.sum()
        mean = (n[:, None] * means).sum(0) / total
        var = (n[:, None] * (variances + (means - mean) ** 2)).sum(0) / total
        shape = [1, channels] + [1] * (x.ndim - 2)
        mean_t = tensor(mean.astype(np.float16), device=x.device)
        invstd = tensor((1 / np.sqrt(var + eps)).astype(np.float16), device=x.device)
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean_t * momentum)
            unbiased = var * total / max(total - 1, 1)
            running_var.mul_(1 - momentum).add_(tensor(unbiased.astype(np.float16), device=x.device) * momentum)
        y = (x - mean_t.view(shape)) * invstd.view(shape)
        if weight is not None:
            y = y * weight.view(shape)
        if bias is not None:
            y = y + bias.view(shape)
        ctx.save_for_backward(x, weight, mean_t, invstd)
        ctx.group, ctx.total, ctx.dims, ctx.shape = group, total, dims, shape
        return y

    @staticmethod
    def backward(ctx, grad):
        if is_grad_enabled():
            raise NotImplementedError("SyncBatchNorm: the synced path has first derivatives only (its collectives "
                                      "are not differentiable); create_graph=True is not supported")
        x, weight, mean, invstd = ctx.saved_tensors
        shape, dims = ctx.shape, ctx.dims
        xmu = x - mean.view(shape)
        sums = stack([grad.sum(dims), (grad * xmu).sum(dims)])
        grad_weight = sums[1] * invstd if weight is not None and ctx.needs_input_grad[1] else None
        grad_bias = sums[0].clone() if ctx.needs_input_grad[2] else None
        dist.all_reduce(sums, group=ctx.group)
        mean_dy, mean_dy_xmu = (sums / ctx.total).unbind(0)
        scale = invstd if weight is None else invstd * weight
        grad_x = (grad - mean_dy.view(shape) - xmu * (invstd * invstd * mean_dy_xmu).view(shape)) * scale.view(shape)
        return grad_x, grad_weight, grad_bias, None, None, None, None, None, None


class SyncBatchNorm(_BatchNorm):
    """A batch norm over (N, C, ...) input of any rank, as torch.nn.SyncBatchNorm: in training mode within an
    initialised tl.distributed group (process_group, default the whole world) of more than one rank, the batch
    statistics are the whole distributed batch's (see the module's notes); otherwise it is BatchNorm."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        if affine and not bias:
            self.register_parameter("bias", None)
        self.process_group = process_group

    def forward(self, input):
        """The normalized input: by the whole distributed batch's statistics when synced, else as BatchNorm."""
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        use_batch_stats, factor = self._step_statistics()
        world = (dist.get_world_size(self.process_group)
                 if self.training and dist.is_available() and dist.is_initialized() else 1)
        if world == 1:
            return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch_stats,
                                factor, self.eps)
        tracked = self.running_mean if self.track_running_stats else None
        return _SyncedBatchNorm.apply(input, self.weight, self.bias, tracked,
                                      self.running_var if self.track_running_stats else None, self.eps, factor,
                                      self.process_group, world)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """`module` with every batch norm (a _BatchNorm, at any depth) replaced by a SyncBatchNorm sharing its
        parameters and running statistics, as torch.nn.SyncBatchNorm.convert_sync_batchnorm; a batch norm itself
        is returned converted."""
        converted = module
        if isinstance(module, _BatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                converted.weight, converted.bias = module.weight, module.bias
            converted.running_mean, converted.running_var = module.running_mean, module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted


__all__ = ["SyncBatchNorm"]
