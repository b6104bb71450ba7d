"""tl.planner: where work ran when the caller did not pin it (SPEC §3).

The only placement choice TensorLogic makes on its own is on Apple builds: a large matmul on the `ane`
device runs through a Core ML model when one exists for its shape, and falls back to Metal otherwise,
with the reason counted. Elsewhere every op runs on the device of its inputs and there is nothing to
decide, which stats() says plainly."""
from . import coreml
from .device import available_devices


def stats():
    """{'devices': [...], 'ane': counts of GEMMs run on the Neural Engine and of fallbacks by reason,
    or None when this build has no ane device}."""
    return {"devices": available_devices(), "ane": coreml.planner_stats()}
