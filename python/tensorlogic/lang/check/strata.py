"""Dependency graph of defined names, its strongly connected components, and the stratification
check: negation may not go through a recursive cycle."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..syntax import nodes as N


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


class Stratifier:
    """Mixed into `Checker`: the dependency graph of defined names and the stratification check."""

    def stratify(self):
        graph = Graph()
        fn_reads = self.function_reads()
        for rel in self.relations.values():
            graph.add_node(rel.name)
            for r in rel.rules:
                for lit in r.body:
                    e = lit.expr
                    negated = lit.negated
                    if isinstance(e, N.Prefix) and e.ops == ["!"]:
                        e, negated = e.operand, not negated
                    for name in self.reads(e, fn_reads):
                        graph.add(rel.name, name, negated, lit.span)
        for t in self.tensors.values():
            graph.add_node(t.name)
            for eq in t.equations:
                for name in self.reads(eq.value, fn_reads) | self.reads_lhs(eq, fn_reads):
                    graph.add(t.name, name, False, eq.span)
        comps = components(graph)
        bad = negative_cycle(graph, comps)
        if bad:
            source, edge, path = bad
            cycle = " -> ".join([source, "not " + edge.target] + path[1:])
            raise self.error(f"'{source}' depends on 'not {edge.target}' and '{edge.target}' "
                             f"depends on '{source}' ({cycle}): negation through recursion "
                             f"cannot be stratified", edge.span)
        return graph, comps

    def reads(self, e, fn_reads) -> set:
        """Global tensors and relations an expression reads (through user functions too)."""
        out = set()
        for n in N.walk(e):
            if isinstance(n, N.Name) and n.role == "value" and \
                    (n.id in self.tensors or n.id in self.relations) and n.id not in self.global_vars:
                out.add(n.id)
            elif isinstance(n, N.Call):
                if n.kind == "relation":
                    out.add(n.name)
                elif n.kind == "fn":
                    out |= fn_reads.get(n.name, set())
        return out

    def reads_lhs(self, eq, fn_reads):
        out = set()
        if isinstance(eq.target, N.Index):
            for item in eq.target.groups[0]:
                out |= self.reads(item.expr, fn_reads)
        return out

    def function_reads(self) -> dict:
        direct, calls = {}, {}
        for name, fn in self.functions.items():
            direct[name], calls[name] = set(), set()
            for s in fn.body:
                for n in N.walk(s):
                    if isinstance(n, N.Name) and n.role == "value" and \
                            (n.id in self.tensors or n.id in self.relations):
                        direct[name].add(n.id)
                    elif isinstance(n, N.Call) and n.kind == "relation":
                        direct[name].add(n.name)
                    elif isinstance(n, N.Call) and n.kind == "fn":
                        calls[name].add(n.name)
        changed = True
        while changed:
            changed = False
            for name in direct:
                for callee in calls[name]:
                    if not direct[callee] <= direct[name]:
                        direct[name] |= direct[callee]
                        changed = True
        return direct
