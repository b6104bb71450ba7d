"""Nested containers as flat lists of leaves and a spec to rebuild them (torch.utils._pytree's model): what the
function transforms (tl.func) and activation checkpointing map over.

Tuples, lists, dicts, OrderedDicts and defaultdicts (in insertion order, the type kept) and namedtuples are nodes;
anything else is a leaf: None too, as in PyTorch (whose vmap then refuses a None output), and other subclasses of
dict, as in PyTorch, where a library registers its own."""
from collections import OrderedDict, defaultdict


class TreeSpec:
    """The shape of a nested container: `kind` (tuple, list, dict, a namedtuple class; or "*" for a
    leaf), `context` (a dict's type, keys and default factory) and the children's specs."""

    __slots__ = ("kind", "context", "children", "num_leaves")

    def __init__(self, kind, context, children):
        self.kind, self.context, self.children = kind, context, children
        self.num_leaves = 1 if kind == "*" else sum(c.num_leaves for c in children)

    def is_leaf(self):
        return self.kind == "*"

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.kind == other.kind and self.context == other.context
                and self.children == other.children)

    def __hash__(self):
        return hash((str(self.kind), len(self.children)))

    def __repr__(self):
        if self.kind == "*":
            return "*"
        context = "" if self.context is None else f", {list(self.context[1])!r}"
        return f"TreeSpec({self.kind.__name__}{context}, [{', '.join(repr(c) for c in self.children)}])"


LEAF = TreeSpec("*", None, [])


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _children(tree):
    """(kind, context, children) of a node; kind "*" for a leaf."""
    if _is_namedtuple(tree):
        return type(tree), None, list(tree)
    if type(tree) in (tuple, list):
        return type(tree), None, list(tree)
    if type(tree) in (dict, OrderedDict, defaultdict):
        factory = tree.default_factory if type(tree) is defaultdict else None
        return dict, (type(tree), tuple(tree), factory), list(tree.values())
    return "*", None, None


def tree_flatten(tree):
    """(leaves, spec): the leaves in depth-first order and the spec that tree_unflatten rebuilds the tree from."""
    leaves = []
    spec = _flatten(tree, leaves)
    return leaves, spec


def _flatten(tree, leaves):
    kind, context, children = _children(tree)
    if kind == "*":
        leaves.append(tree)
        return LEAF
    return TreeSpec(kind, context, [_flatten(c, leaves) for c in children])


def tree_unflatten(leaves, spec):
    """The tree of `spec` with `leaves` (a sequence of spec.num_leaves values) in its leaf positions."""
    leaves = list(leaves)
    if len(leaves) != spec.num_leaves:
        raise ValueError(f"tree_unflatten: the spec {spec} has {spec.num_leaves} leaves, got {len(leaves)} values")
    return _build(iter(leaves), spec)


def _build(leaves, spec):
    if spec.kind == "*":
        return next(leaves)
    children = [_build(leaves, c) for c in spec.children]
    if spec.kind is dict:
        cls, keys, factory = spec.context
        return defaultdict(factory, zip(keys, children)) if cls is defaultdict else cls(zip(keys, children))
    if spec.kind in (tuple, list):
        return spec.kind(children)
    return spec.kind(*children)  # a namedtuple


def tree_map(fn, tree):
    """The tree with fn(leaf) in place of each leaf."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_prefix(prefix, spec):
    """The leaves of `prefix` broadcast over `spec`: a leaf of prefix (an int, None, ...) stands for every leaf of
    the subtree in its place (how vmap's in_dims and out_dims match the arguments). None when prefix is not a
    prefix of spec's structure. (A None in prefix is a leaf here, as it is an in_dim.)"""
    out = []
    return out if _broadcast(prefix, spec, out) else None


def _broadcast(prefix, spec, out):
    kind, context, children = _children(prefix)
    if kind == "*" or prefix is None:
        out.extend([prefix] * spec.num_leaves)
        return True
    if spec.kind == "*" or kind != spec.kind or len(children) != len(spec.children):
        return False
    if kind is dict and set(context[1]) != set(spec.context[1]):
        return False
    if kind is dict:
        children = [prefix[k] for k in spec.context[1]]
    return all(_broadcast(c, s, out) for c, s in zip(children, spec.children))
