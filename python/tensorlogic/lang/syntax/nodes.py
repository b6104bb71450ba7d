"""The syntax tree of a `.tl` program: plain dataclasses, each carrying the span it came from.

The checker annotates some nodes in place (fields after `span`, default `None`); the parser never
sets them.  Annotations that hold nodes are made with `annotation()` so that tree walks skip them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ..constants import Text
from ..errors import Span


def annotation():
    """A field the checker fills with nodes it builds (not part of the source tree)."""
    return field(default=None, metadata={"annotation": True})


@dataclass(eq=False, kw_only=True)
class Node:
    """Every node class is made a dataclass like this one when it is defined (`__init_subclass__`):
    keyword-only fields, compared by identity."""
    span: Optional[Span] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        dataclass(eq=False, kw_only=True)(cls)


# ---- expressions ------------------------------------------------------------------------------
class Name(Node):
    id: str
    # Set by the checker where the name is an index or an atom argument: "var" (an index
    # variable), "const" (a domain constant, `key` holds it) or "value" (a bound variable).
    role: Optional[str] = None
    key: Any = None


class Num(Node):
    value: Union[int, float]
    text: str

    @property
    def is_int(self) -> bool:
        return isinstance(self.value, int)


class Str(Node):
    value: str

    @property
    def constant(self) -> Text:
        """The string as a constant of the logic (a rule's, a fact's, a domain's or an index's):
        a `Text`, never equal to the name with its characters (clingo's terms)."""
        return Text(self.value)


class Bool(Node):
    value: bool


class BinChain(Node):
    """A left-associative chain `a op b op c` of one precedence level: `+ -`, `* / % @`, `&&`, `||`.
    Kept flat so that long sums do not make deep trees."""
    ops: list[str]
    operands: list["Expr"]


class Compare(Node):
    op: str
    left: "Expr"
    right: "Expr"


class Juxt(Node):
    """Juxtaposed factors `A[i, j] B[j]`: the product of its factors (an einsum over
    their shared indices)."""
    factors: list["Expr"]


class Prefix(Node):
    """`-x`, `+x`, `!x` (several prefixes apply right to left)."""
    ops: list[str]
    operand: "Expr"


class Power(Node):
    """`a ^ b ^ c` (right-associative, `**` is the same)."""
    operands: list["Expr"]


class Idx(Node):
    """One position inside `[ ]`: an index expression, `marked` for the normalised axis `i.`."""
    expr: "Expr"
    marked: bool = False


class Slice(Node):
    start: Optional["Expr"] = None
    stop: Optional["Expr"] = None
    step: Optional["Expr"] = None


class Index(Node):
    """`base[...]` or `base[...][...]`; `groups` holds one list per bracket pair."""
    base: "Expr"
    groups: list[list[Union[Idx, Slice]]]


class KwArg(Node):
    name: str
    value: "Expr"


class Call(Node):
    """`f(a, k: v)`: a built-in or user function call, or a relation atom `R(x, y)`; which one is
    decided by the checker (`kind`)."""
    name: str
    args: list["Expr"]
    kwargs: list[KwArg] = field(default_factory=list)
    name_span: Optional[Span] = None
    kind: Optional[str] = None          # "fn", "relation", "builtin" or "assoc" (`Type::function`)
    builtin: Optional[str] = None       # the built-in a namespaced call names: f16::zeros -> zeros


class Member(Node):
    """`obj.name`: a struct's field."""
    obj: "Expr"
    name: str
    name_span: Optional[Span] = None


class MethodCall(Node):
    """`obj.name(args)`: a method of the struct `obj` is, or a built-in taking `obj` first
    (`x.reshape([2, 3]).sum()` is `sum(reshape(x, [2, 3]))`)."""
    obj: "Expr"
    name: str
    args: list["Expr"]
    kwargs: list[KwArg] = field(default_factory=list)
    name_span: Optional[Span] = None
    kind: Optional[str] = None          # set by the checker when it knows: "method" or "builtin"


class FieldInit(Node):
    name: str
    value: "Expr"


class StructLit(Node):
    """`Point { x: 1.0, y: 2.0 }` (type arguments of a generic struct are not kept: every value
    knows its own type)."""
    name: str
    fields: list[FieldInit]
    name_span: Optional[Span] = None


class TupleLit(Node):
    items: list["Expr"]


class ListLit(Node):
    items: list["Expr"]


Expr = Union[Name, Num, Str, Bool, BinChain, Compare, Juxt, Prefix, Power, Index, Call, TupleLit,
             ListLit, Member, MethodCall, StructLit]


# ---- statements -------------------------------------------------------------------------------
class ExprStmt(Node):
    expr: Expr


class Assign(Node):
    """`target op value` with op one of `=`, `max=`, `min=`, `avg=`; `target` is a `Name` or an
    `Index` of a name with one bracket group."""
    target: Expr
    op: str
    value: Expr
    update: Optional[str] = None        # `+=` ... when written so (value is then `target + e`)
    element: bool = False               # a statement setting elements of a value (`h[1] = 7`, `q[k] += v`)


class Literal(Node):
    negated: bool
    expr: Expr


class Facts(Node):
    """Consecutive top-level lines that are each one fact `name(c1, ..., cn)` (the parser's fast
    path, syntax/facts.py): `rows` holds their constants (int, a name's str, a string's Text), `lines` their line numbers."""
    name: str
    rows: list[tuple]
    lines: list[int]


class Rule(Node):
    head: Expr
    body: list[Literal]
    # Set by the checker: the head's arguments as index items and the body as one product.
    head_items: Optional[list] = annotation()
    product: Optional[Expr] = annotation()


class Query(Node):
    """`A(x), not B(x)?` or `Y?`."""
    literals: list[Literal]
    product: Optional[Expr] = annotation()     # set by the checker for a query of atoms: their product


class Dim(Node):
    kind: str            # "int", "name" (a domain or a named size) or "any" (`?`)
    value: Any = None


class TypeSpec(Node):
    dtype: str                           # a dtype, a scalar type, a struct or a type parameter
    dims: Optional[list[Dim]] = None     # None: a scalar type without brackets
    args: list[str] = field(default_factory=list)    # type arguments: `Box<float32>`


class Let(Node):
    name: str
    type: Optional[TypeSpec]
    value: Optional[Expr]               # None only for `tensor x: T[...]` without a value: zeros
    name_span: Optional[Span] = None
    declared_tensor: bool = False       # written `tensor x: T[...] = v` (v takes the declared shape)


class If(Node):
    cond: Expr
    then: list
    orelse: Optional[list] = None


class For(Node):
    var: str
    iterable: Expr
    body: list
    var_span: Optional[Span] = None


class While(Node):
    cond: Expr
    body: list


class Return(Node):
    value: Optional[Expr]


class Break(Node):
    pass


class Continue(Node):
    pass


class Block(Node):
    """A bare `{ ... }` statement: its `let`s are local to it."""
    body: list


# ---- declarations and blocks ------------------------------------------------------------------
class DomainDecl(Node):
    name: str
    kind: str                           # "set", "range" or "open" (grows with facts)
    members: list = field(default_factory=list)   # Name / Str / Num nodes
    start: int = 0
    stop: int = 0
    name_span: Optional[Span] = None


class RelParam(Node):
    name: str
    domain: Optional[str]


class RelationDecl(Node):
    name: str
    params: list[RelParam]
    name_span: Optional[Span] = None
    embed: Optional["TypeSpec"] = None    # the seed's `embed float16[32]`: checked, kept, unused


class TensorDecl(Node):
    name: str
    type: TypeSpec
    mode: str                           # "learnable" or "frozen"
    init: Optional[Expr]
    name_span: Optional[Span] = None
    given_later: bool = False           # declared in `main`: a statement there gives its value


class Param(Node):
    name: str
    type: Optional[TypeSpec]


class FnDecl(Node):
    name: str
    params: list[Param]
    ret: Optional[TypeSpec]
    body: list
    name_span: Optional[Span] = None
    owner: Optional[str] = None         # set by the checker for a method: the struct it belongs to
    type_params: list[str] = field(default_factory=list)   # `fn first<T>(...)`: not kept at run time


class MainBlock(Node):
    body: list


class TestBlock(Node):
    name: str
    body: list


class Import(Node):
    path: str


class Load(Node):
    """`load Edge from "edges.tsv"`: facts or a tensor's value read from a data file."""
    name: str
    path: str
    name_span: Optional[Span] = None


class FieldDecl(Node):
    name: str
    type: TypeSpec
    learnable: bool = False


class StructDecl(Node):
    name: str
    type_params: list[str]
    fields: list[FieldDecl]
    name_span: Optional[Span] = None


class ImplBlock(Node):
    """`impl<T> Box<T> { fn ... }` or `impl Drop for Resource { fn drop(self) ... }`."""
    type_name: str
    type_params: list[str]
    trait: Optional[str]
    methods: list[FnDecl]
    name_span: Optional[Span] = None


class Setting(Node):
    key: str
    value: Expr


class Learn(Node):
    body: list                          # statements re-run every epoch
    settings: list[Setting]


class Program(Node):
    items: list
    filename: str = "<string>"
    text: str = ""


def iter_children(node):
    """The nodes directly inside `node` (fields holding nodes, lists of nodes or lists of lists)."""
    for name, f in node.__dataclass_fields__.items():
        if name == "span" or f.metadata.get("annotation"):
            continue
        value = getattr(node, name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, list):
            for v in value:
                if isinstance(v, Node):
                    yield v
                elif isinstance(v, list):
                    yield from (w for w in v if isinstance(w, Node))


def walk(node):
    """Pre-order traversal without recursion."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(list(iter_children(n))))
