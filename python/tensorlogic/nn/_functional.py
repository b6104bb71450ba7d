"""Layers reach tl.nn.functional through this handle, which imports it on first use (functional.py is
written alongside the ops; importing tl.nn must not depend on the order in which the two load)."""
import importlib


class _Functional:
    def __getattr__(self, name):
        return getattr(importlib.import_module("tensorlogic.nn.functional"), name)


F = _Functional()
