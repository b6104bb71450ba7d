"""torch.set_warn_always / is_warn_always_enabled: whether warnings that TensorLogic gives once (tl.compile's reason
for running a function eagerly, once per function and reason) are given every time instead. Warnings given through
Python's warnings module are then repeated as its filters allow (by default once per place in the code)."""

_state = {"always": False}


def set_warn_always(b):
    """Gives the warnings TensorLogic gives once every time instead (True), or once again (False)."""
    if not isinstance(b, bool):
        raise RuntimeError(f"set_warn_always expects a bool, but got {type(b).__name__}")
    _state["always"] = b


def is_warn_always_enabled():
    """True after set_warn_always(True)."""
    return _state["always"]
