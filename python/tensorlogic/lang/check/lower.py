"""The seed language's spellings rewritten into the core language before checking, so that the
checker and the interpreter know one form of each construct:

- `x := e` declares or assigns: at top level it is `let x = e` (an assignment when `x` is a
  declared tensor or an existing variable), inside a block it is `x = e`;
- `tensor x: T[...] = e` inside `main` declares a global tensor (so equations, `learn` and Python
  see it) whose value is given when the statement runs; inside functions, loops and nested blocks
  it is a local `let x: T[...] = e`;
- facts of constants and rules written directly inside `main` are declarations: they move to the top
  level (a fact naming a variable runs in order, as in any block);
- an initialiser without a shape in a tensor declaration (`zeros()`, `random_normal(0.0, 0.1)`)
  takes the declared one;
- a line the parser's fast path read as facts but whose name is a built-in or a function is a call.
"""
from __future__ import annotations

from ..syntax import nodes as N
from ..syntax.facts import statements
from . import catalog


def lower(items, functions, structs, sources):
    """`items`: the program's top-level items (imports expanded); `functions` and `structs`: the
    names of user functions and struct types (facts are calls of anything else)."""
    declared = {i.name for i in items if isinstance(i, N.TensorDecl)}
    items = _calls_not_facts(items, functions | structs | declared, sources)
    hoisted = []
    global_vars = _variables(i for i in items if not isinstance(i, (N.FnDecl, N.MainBlock, N.TestBlock,
                                                                      N.ImplBlock)))
    for item in items:
        if isinstance(item, N.MainBlock):
            variables = global_vars | _variables(item.body)
            item.body = _main_body(item.body, hoisted, declared, functions | variables, structs)
    return hoisted + _block(items, True, declared)


def _calls_not_facts(items, names, sources):
    """The parser's fact blocks whose name is a built-in, a function, a struct, a tensor or a
    variable: those lines are calls, as ordinary statements."""
    names = names | catalog.BUILTINS | {i.name for i in items if isinstance(i, N.Let)}
    out = []
    for item in items:
        if isinstance(item, N.Facts) and item.name in names:
            out.extend(statements(item, sources[item.span.file]))
        else:
            out.append(item)
    return out


# Initialisers the seed writes without a shape inside a tensor declaration: they take its shape.
_SHAPED = {"zeros": 0, "ones": 0, "randn": 0, "rand": 0, "random_normal": 2}


def _shaped(decl_type, init):
    """`tensor w: float16[n, m] = random_normal(0.0, 0.1)` -> random_normal(0.0, 0.1, n, m)."""
    if not (isinstance(init, N.Call) and init.name in _SHAPED and len(init.args) <= _SHAPED[init.name]
            and decl_type.dims and all(d.kind in ("int", "name") for d in decl_type.dims)):
        return init
    dims = [N.Num(span=d.span, value=d.value, text=str(d.value)) if d.kind == "int"
            else N.Name(span=d.span, id=d.value) for d in decl_type.dims]
    given = list(init.args)
    if init.name == "random_normal":
        defaults = [N.Num(span=init.span, value=0.0, text="0.0"), N.Num(span=init.span, value=1.0, text="1.0")]
        given = given + defaults[len(given):]
    init.args = given + dims
    return init


def _block(stmts, top, declared):
    """`top`: statements whose variables are global (the top level, its control blocks and learn
    blocks); elsewhere they are local to the enclosing main, test or function."""
    out = []
    for s in stmts:
        if isinstance(s, N.Assign) and s.op == ":=":
            if top and isinstance(s.target, N.Name) and s.target.id not in declared:
                s = N.Let(span=s.span, name=s.target.id, type=None, value=s.value,
                          name_span=s.target.span)
            else:
                s.op = "="
        elif isinstance(s, N.TensorDecl) and not top:
            s = N.Let(span=s.span, name=s.name, type=s.type, value=_shaped(s.type, s.init),
                      name_span=s.name_span, declared_tensor=True)
        elif isinstance(s, N.TensorDecl):
            s.init = _shaped(s.type, s.init)
        for body, inner_top in _bodies(s, top):
            body[:] = _block(body, inner_top, declared)
        out.append(s)
    return out


def _main_body(body, hoisted, declared, functions, structs):
    out = []
    for s in body:
        if isinstance(s, N.Rule) or (isinstance(s, N.ExprStmt) and _is_fact(s.expr, functions, structs)):
            hoisted.append(s)
        elif isinstance(s, N.TensorDecl) and s.name not in declared:
            declared.add(s.name)
            hoisted.append(N.TensorDecl(span=s.span, name=s.name, type=s.type, mode=s.mode,
                                        init=None, name_span=s.name_span, given_later=True))
            init = _shaped(s.type, s.init)
            if init is None and s.type.dims and all(d.kind == "int" for d in s.type.dims):
                # `tensor z: float16[3]` in main holds zeros until assigned.
                init = N.Call(span=s.span, name="zeros", name_span=s.name_span, kwargs=[],
                              args=[N.Num(span=d.span, value=d.value, text=str(d.value)) for d in s.type.dims])
            if init is not None:
                target = N.Name(span=s.name_span, id=s.name)
                out.append(N.Assign(span=s.span, target=target, op="=", value=init))
        else:
            out.append(s)
    return out


def _is_fact(e, names, structs):
    """A fact of constants only (`names`: functions and variables, which are not constants)."""
    return isinstance(e, N.Call) and "::" not in e.name and e.name not in names and \
        e.name not in structs and e.name not in catalog.BUILTINS and \
        all((isinstance(a, N.Name) and a.id not in names) or isinstance(a, (N.Str, N.Num)) or
            (isinstance(a, N.Prefix) and a.ops == ["-"] and isinstance(a.operand, N.Num))
            for a in e.args)


def _variables(stmts):
    """Names the statements bind with `let`, `for`, `:=` or assignment: a fact naming one is run
    in order (the name stands for its value), not a declaration."""
    out = set()
    for s in stmts:
        for n in N.walk(s):
            if isinstance(n, N.Let):
                out.add(n.name)
            elif isinstance(n, N.For):
                out.add(n.var)
            elif isinstance(n, N.Assign) and isinstance(n.target, N.Name):
                out.add(n.target.id)
    return out


def _bodies(n, top):
    """The statement lists directly inside `n`, each with whether its variables are global."""
    if isinstance(n, (N.MainBlock, N.TestBlock, N.FnDecl)):
        yield n.body, False
    elif isinstance(n, N.ImplBlock):
        for m in n.methods:
            yield m.body, False
    elif isinstance(n, (N.While, N.For, N.Block, N.Learn)):
        yield n.body, top
    elif isinstance(n, N.If):
        yield n.then, top
        if n.orelse is not None:
            yield n.orelse, top
