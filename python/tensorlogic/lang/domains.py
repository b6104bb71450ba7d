"""Domains (finite sets of constants) and the inference that gives every relation argument one.

A declared domain is a set of constants or an integer range.  The arguments of untyped relations
get inferred domains: positions joined by a shared variable are unified (union-find), and the
constants written at those positions become the members, in order of first appearance.  An inferred
domain whose constants are all non-negative integers is the range 0..max+1 (integers index it).
"""
from __future__ import annotations


class Domain:
    def __init__(self, name: str, kind: str, members=(), start: int = 0, stop: int = 0,
                 declared: bool = True, span=None):
        self.name = name
        self.kind = kind                # "set", "range", "open" (declared, grows) or "inferred"
        self.members = list(members)
        self._index = {m: i for i, m in enumerate(self.members)}
        self.start, self.stop = start, stop
        self.declared = declared
        self.span = span

    def __repr__(self):
        return f"Domain({self.name!r}, {self.kind}, size={self.size})"

    @property
    def grows(self) -> bool:
        return self.kind in ("open", "inferred")

    @property
    def size(self) -> int:
        if self.kind == "range":
            return max(0, self.stop - self.start)
        return len(self.members)

    def index(self, key):
        """Index of a constant, or None when it is not a member."""
        if self.kind == "range":
            if isinstance(key, int) and not isinstance(key, bool) and self.start <= key < self.stop:
                return key - self.start
            return None
        return self._index.get(key)

    def add(self, key) -> int:
        if key not in self._index:
            self._index[key] = len(self.members)
            self.members.append(key)
        return self._index[key]

    def constants(self) -> list:
        if self.kind == "range":
            return list(range(self.start, self.stop))
        return list(self.members)

    def finish_inferred(self):
        """An inferred domain of non-negative integers becomes the range 0..max+1."""
        if self.kind == "inferred" and self.members and all(
                isinstance(m, int) and not isinstance(m, bool) and m >= 0 for m in self.members):
            self.kind, self.start, self.stop = "range", 0, max(self.members) + 1
            self.members, self._index = [], {}


class UnionFind:
    """Classes of argument positions; each class may carry one declared domain."""

    def __init__(self):
        self.parent = {}
        self.domain = {}                # root -> (Domain, span where it was attached)

    def find(self, x):
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a, b):
        """Joins two classes; returns the two clashing domains if both carry different ones."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        da, db = self.domain.get(ra), self.domain.get(rb)
        if da and db and da[0] is not db[0]:
            return da, db
        self.parent[rb] = ra
        if db and not da:
            self.domain[ra] = db
        self.domain.pop(rb, None)
        return None

    def attach(self, x, domain, span):
        root = self.find(x)
        have = self.domain.get(root)
        if have and have[0] is not domain:
            return have
        self.domain[root] = (domain, span)
        return None

    def domain_of(self, x):
        d = self.domain.get(self.find(x))
        return d[0] if d else None
