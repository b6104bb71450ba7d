"""How a join (a product of labelled factors with some labels summed) runs: one einsum."""
from __future__ import annotations

from .labelled import join


class Joins:
    def __init__(self, rt):
        self.rt = rt

    def join(self, factors, out_labels, scale, node):
        return join(factors, out_labels, scale)
