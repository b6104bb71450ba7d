"""tl.cuda.amp: the older torch.cuda.amp spellings, over tl.amp (autocast is the identity, GradScaler the
same dynamic loss scaler)."""
from . import amp
from .amp import GradScaler


class autocast(amp.autocast):
    """torch.cuda.amp.autocast(enabled=True, dtype=torch.float16, cache_enabled=True): the identity."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        super().__init__("cuda", dtype, enabled, cache_enabled)


__all__ = ["autocast", "GradScaler"]
