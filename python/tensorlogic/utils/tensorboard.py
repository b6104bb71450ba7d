"""tl.utils.tensorboard: torch.utils.tensorboard's SummaryWriter, so a training script's logging (makemore's
`writer.add_scalar("Loss/train", loss, step)`) runs with only its import changed. The event files are written
by tensorboardX (`pip install tensorboardX`, or the `tensorboard` extra), a maintained writer of the format
TensorBoard reads; this module hands it numpy arrays where the caller passed tensors. Differences from PyTorch's:
add_graph is absent (it traces a PyTorch module with TorchScript, which has no counterpart here), and add_scalars
puts each group's run under main_tag/group rather than main_tag_group."""
import functools

try:
    import tensorboardX
except ImportError as e:  # as torch.utils.tensorboard without its `tensorboard` package
    raise ImportError("tl.utils.tensorboard needs tensorboardX: pip install tensorboardX "
                      "(or tensorlogic-engine[tensorboard])") from e

from ..errors import TensorLogicRuntimeError
from ..tensor import Tensor

__all__ = ["SummaryWriter"]


def _host(value):
    """Tensors (also inside lists, tuples and dicts: add_scalars' values, add_hparams' metrics) as numpy
    arrays; a one-element tensor as its Python number, which is what tensorboardX takes for a scalar."""
    if isinstance(value, Tensor):
        return value.item() if value.numel() == 1 and value.dim() == 0 else value.detach().cpu().numpy()
    if isinstance(value, dict):
        return {k: _host(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_host(v) for v in value)
    return value


def _taking_tensors(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        return method(self, *(_host(a) for a in args), **{k: _host(v) for k, v in kwargs.items()})
    return call


class SummaryWriter(tensorboardX.SummaryWriter):
    """Writes TensorBoard event files under `log_dir` (default runs/DATE_HOST_COMMENT), as
    torch.utils.tensorboard.SummaryWriter: add_scalar, add_scalars, add_histogram, add_image(s), add_text,
    add_embedding, add_hparams, add_pr_curve, add_figure, add_video, add_audio, add_mesh, ... take tensors or
    numpy arrays; flush() and close() (or a `with` block) write what is queued."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix=""):
        super().__init__(logdir=log_dir, comment=comment, purge_step=purge_step, max_queue=max_queue,
                         flush_secs=flush_secs, filename_suffix=filename_suffix)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        raise TensorLogicRuntimeError("SummaryWriter.add_graph is not available: it traces a PyTorch module with "
                                      "TorchScript, which TensorLogic has no counterpart of")


for _name in dir(tensorboardX.SummaryWriter):
    if _name.startswith("add_") and _name != "add_graph":
        setattr(SummaryWriter, _name, _taking_tensors(getattr(tensorboardX.SummaryWriter, _name)))
