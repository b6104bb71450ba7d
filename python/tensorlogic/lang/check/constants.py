"""Names read as constants where nothing can hold them.  A name is a constant in every rule as soon
as one fact or domain holds it (LANGUAGE.md §3); in clingo case decides instead, so a rule variable
spelt like a constant of an unrelated relation (`Path(x, y) <- Edge(x, y)` beside a fact `Var(x)`)
silently becomes that constant and the atom never holds.  A warning names such an atom: one whose
constant no fact of its relation or of its position's domain holds, and that no fact, rule head or
comparison can put at that position, following rules through their variables (a head variable holds
what its body's positive atoms hold at its positions)."""
from __future__ import annotations

from ..errors import ConstantNameWarning
from ..syntax import nodes as N

ANY = None      # a position whose values the program does not tell (a fixed domain, loaded or given from Python)


def warn_unheld_constants(checker, items):
    reads = [r for r in _reads(checker, items) if _grows(checker.relations[r[2]].domains[r[3]])]
    if not reads:
        return
    columns = _fact_columns(checker)
    held = _held(checker, items, columns)
    in_facts = _fact_members(checker, columns)
    warned = set()
    for stmt, atom, rel, k, arg in reads:
        values = held.get((rel, k), ANY)
        dom = checker.relations[rel].domains[k]
        # A name that a fact of this relation, or of this position's domain, holds is the program's
        # own constant there (`not Edge(b, a)?` may well ask about a tuple that does not hold): only
        # a foreign one is suspect.
        if values is ANY or arg.key in values or arg.key in in_facts.get(id(dom), ()) or \
                arg.key in in_facts.get(rel, ()) or (id(stmt), arg.key) in warned:
            continue
        warned.add((id(stmt), arg.key))
        negated = any(lit.negated and lit.expr is atom for lit in getattr(stmt, "body", None) or
                      getattr(stmt, "literals", None) or ())
        never = f"`not {rel}(...)` always holds" if negated else "this atom never holds"
        checker.warn(ConstantNameWarning,
                     f"'{arg.id}' is a constant, since {constant_origin(checker, items, arg.key)}, but nothing "
                     f"puts '{arg.id}' at this position of '{rel}', so {never}. A name that any fact holds "
                     f"is a constant in every rule: to mean a variable, give it another name (\"{arg.id}\" in "
                     f"quotes is a string, another constant)", arg.span)


def _atom(checker, n):
    """(relation name, argument expressions) when n is a relation atom, else None."""
    if isinstance(n, N.Call) and n.kind == "relation":
        return n.name, n.args
    if isinstance(n, N.Index) and isinstance(n.base, N.Name) and n.base.id in checker.relations \
            and len(n.groups) == 1:
        return n.base.id, [i.expr if isinstance(i, N.Idx) else None for i in n.groups[0]]
    return None


def _atoms(checker, root):
    for n in N.walk(root):
        got = _atom(checker, n)
        if got is not None:
            yield (n,) + got


def _reads(checker, items):
    """(statement, atom, relation, position, name) of every name read as a constant in an atom:
    rule bodies, queries and expressions, not facts or rule heads."""
    def visit(node, stmt):
        if isinstance(node, (N.Facts, N.DomainDecl, N.RelationDecl)) or node in checker.fact_stmts:
            return
        if isinstance(node, (N.Rule, N.Query)):
            for root in [lit.expr for lit in node.body] if isinstance(node, N.Rule) else [node]:
                for atom, rel, args in _atoms(checker, root):
                    yield from ((node, atom, rel, k, a) for k, a in enumerate(args))
            return
        got = _atom(checker, node)
        if got is not None:
            yield from ((stmt, node, got[0], k, a) for k, a in enumerate(got[1]))
        for child in N.iter_children(node):
            yield from visit(child, stmt)

    for item in items:
        for stmt, atom, rel, k, a in visit(item, item):
            if isinstance(a, N.Name) and a.role == "const":
                yield stmt, atom, rel, k, a


def _grows(dom):
    return dom is not None and dom.grows


def _fact_columns(checker):
    """relation name -> the set of constants its facts hold at each position (a knowledge base of
    many fact lines is transposed at once)."""
    out = {}
    for rel in checker.relations.values():
        cols = [set(col) for col in zip(*rel.fact_rows)] if rel.fact_rows else [set() for _ in range(rel.arity)]
        for call in rel.facts:
            for names, a in zip(cols, call.args):
                names.add(_key(a))
        out[rel.name] = cols
    return out


def _fact_members(checker, columns):
    """id(domain) -> the names facts hold at positions of that domain; relation name -> the names
    its facts hold."""
    out = {}
    for rel in checker.relations.values():
        for dom, names in zip(rel.domains, columns[rel.name]):
            out.setdefault(id(dom), set()).update(names)
            out.setdefault(rel.name, set()).update(names)
    return out


def _held(checker, items, columns):
    """(relation, position) -> the names that can stand there, or ANY."""
    held = {}
    loaded = {i.name for i in items if isinstance(i, N.Load)}
    for rel in checker.relations.values():
        external = rel.name in loaded or rel.rows or not (rel.facts or rel.fact_rows or rel.rules)
        for k, (dom, names) in enumerate(zip(rel.domains, columns[rel.name])):
            held[(rel.name, k)] = ANY if external or not _grows(dom) else set(names)
    rules = [r for rel in checker.relations.values() for r in rel.rules]
    changed = True
    while changed:
        changed = False
        for r in rules:
            for k, a in enumerate(r.head.args):
                pos = (r.head.name, k)
                if held.get(pos, ANY) is ANY:
                    continue
                got = _sources(checker, r, a, held)
                if got is ANY or not got <= held[pos]:
                    _add(held, pos, got)
                    changed = True
    return held


def _sources(checker, rule, a, held):
    """What a rule's head argument can hold: its constant, or what the body's positive atoms hold
    where its variable stands (ANY for variables bound otherwise); arithmetic and aggregates give
    numbers, never names."""
    if isinstance(a, (N.Name, N.Str, N.Num)) and getattr(a, "role", "const") == "const":
        return {_key(a)}
    if not (isinstance(a, N.Name) and a.role == "var"):
        return set()
    out = set()
    for lit in rule.body:
        e = lit.expr
        if isinstance(e, N.Compare) and e.op == "==":
            for x, y in ((e.left, e.right), (e.right, e.left)):
                if isinstance(x, N.Name) and x.id == a.id:
                    if isinstance(y, (N.Name, N.Str)) and getattr(y, "role", "const") == "const":
                        out.add(_key(y))
                    else:
                        return ANY
        if lit.negated:
            continue
        for _, rel, args in _atoms(checker, e):
            for k, b in enumerate(args):
                if isinstance(b, N.Name) and b.id == a.id:
                    got = held.get((rel, k), ANY)
                    if got is ANY:
                        return ANY
                    out |= got
    return out


def _add(held, pos, keys):
    if held.get(pos, ANY) is ANY:
        return
    if keys is ANY:
        held[pos] = ANY
    else:
        held[pos] |= keys


def _key(a):
    if isinstance(a, N.Name):
        return a.key if a.key is not None else a.id
    if isinstance(a, N.Str):
        return a.constant
    if isinstance(a, N.Num):
        return a.value
    return None


def constant_origin(checker, items, key):
    """Where the name is a constant: its first fact, or the domain that holds it."""
    for rel in checker.relations.values():
        for call in rel.facts:
            if any(isinstance(a, N.Name) and _key(a) == key for a in call.args):
                return f"a fact of '{rel.name}' holds it (line {call.span.line})"
    for item in items:
        if isinstance(item, N.Facts):
            for row, line in zip(item.rows, item.lines):
                if key in row:
                    return f"a fact of '{item.name}' holds it (line {line})"
    for d in checker.domains.values():
        if d.kind == "set" and key in d.members:
            return f"domain {d.name} holds it"
    return "a fact holds it"
