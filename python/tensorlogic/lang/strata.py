"""Dependency graph of defined names, its strongly connected components, and the stratification
check: negation may not go through a recursive cycle."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Edge:
    target: str
    negated: bool
    span: object = None          # where the dependency is written (the `not` literal for negation)


@dataclass
class Graph:
    edges: dict = field(default_factory=dict)       # name -> list[Edge]

    def add_node(self, name):
        self.edges.setdefault(name, [])

    def add(self, source, target, negated=False, span=None):
        self.add_node(source)
        self.edges[source].append(Edge(target, negated, span))

    def successors(self, name):
        return [e.target for e in self.edges.get(name, ()) if e.target in self.edges]


def components(graph: Graph) -> list[list[str]]:
    """Tarjan's algorithm without recursion.  Components come out in reverse topological order:
    each one depends only on components listed before it."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in graph.edges:
        if root in index:
            continue
        work = [(root, iter(graph.successors(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for succ in it:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(graph.successors(succ))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(sorted(comp))
    return out


def is_recursive(graph: Graph, component: list[str]) -> bool:
    if len(component) > 1:
        return True
    name = component[0]
    return any(e.target == name for e in graph.edges.get(name, ()))


def negative_cycle(graph: Graph, comps: list[list[str]]):
    """The first negated edge inside a recursive component, with a cycle through it, or None."""
    for comp in comps:
        members = set(comp)
        for source in comp:
            for e in graph.edges.get(source, ()):
                if e.negated and e.target in members:
                    return source, e, _path(graph, e.target, source, members)
    return None


def _path(graph, start, goal, members):
    """A shortest path start -> goal inside `members` (breadth first)."""
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for n in frontier:
            if n == goal:
                path = []
                while n is not None:
                    path.append(n)
                    n = prev[n]
                return path[::-1]
            for s in graph.successors(n):
                if s in members and s not in prev:
                    prev[s] = n
                    nxt.append(s)
        frontier = nxt
    return [start, goal]
