"""Names read as constants where nothing can hold them.  A name is a constant in every rule as soon
as one fact or domain holds it (LANGUAGE.md §3); in clingo case decides instead, so a rule variable
spelt like a constant of an unrelated relation (`Path(x, y) <- Edge(x, y)` beside a fact `Var(x)`)
silently becomes that constant and the atom never holds.  A warning names such an atom: one whose
constant no fact of its relation or of its position's domain holds, and that no fact, rule head or
comparison can put at that position, following rules through their variables (a head variable holds
what its body's positive atoms hold at its positions).

A string and the name of its text are different constants (clingo's terms), and programs written when
`"x"` meant the name x read nothing: a rule or query that reads the string `"x"` where nothing can hold
it but the name x is held there (written, or loaded: the checker's read of the file, checker.py), or
the name where only the string is, is told so, as are facts that put both at one position."""
from __future__ import annotations

from ..constants import Text, constant_key, shown
from ..errors import ConstantNameWarning
from ..syntax import nodes as N
from ..syntax.facts import arg_span
from ..syntax.grammar import spells_name

FALLBACK = "a fact holds it"
ANY = None      # a position whose values the program does not tell (a fixed domain, loaded or given from Python)


def warn_unheld_constants(checker, items):
    columns = _fact_columns(checker)
    _warn_mixed_facts(checker, items, columns)
    reads = [r for r in _reads(checker, items) if _grows(checker.relations[r[2]].domains[r[3]])]
    if not reads:
        return
    held = _held(checker, items, columns)
    # What the program's own constants can be at each position, a load's included (for the warning
    # on a string read where only its name is held, or the other way round).
    written = _held(checker, items, columns, checker.loaded_constants) if checker.loaded_constants else held
    in_facts = _fact_members(checker, columns)
    warned = set()
    for stmt, atom, rel, k, arg in reads:
        key = _key(arg)
        if (id(stmt), key) in warned:
            continue
        values, seen = held.get((rel, k), ANY), written.get((rel, k), ANY)
        twin = _twin(key)
        if twin is not None and seen is not ANY and key not in seen and twin in seen:
            warned.add((id(stmt), key))
            checker.warn(ConstantNameWarning, _twin_message(checker, items, stmt, atom, rel, arg), arg.span)
            continue
        if isinstance(arg, N.Str):
            continue
        dom = checker.relations[rel].domains[k]
        # A name that a fact of this relation, or of this position's domain, holds is the program's
        # own constant there (`not Edge(b, a)?` may well ask about a tuple that does not hold): only
        # a foreign one is suspect.
        if values is ANY or key in values or key in in_facts.get(id(dom), ()) or key in in_facts.get(rel, ()):
            continue
        warned.add((id(stmt), key))
        never = _never(stmt, atom, rel)
        checker.warn(ConstantNameWarning,
                     f"'{arg.id}' is a constant, since {constant_origin(checker, items, arg.key)}, but nothing "
                     f"puts '{arg.id}' at this position of '{rel}', so {never}. A name that any fact holds "
                     f"is a constant in every rule: to mean a variable, give it another name (\"{arg.id}\" in "
                     f"quotes is a string, another constant)", arg.span)


def _never(stmt, atom, rel):
    negated = any(lit.negated and lit.expr is atom for lit in getattr(stmt, "body", None) or
                  getattr(stmt, "literals", None) or ())
    return f"`not {rel}(...)` always holds" if negated else "this atom never holds"


def _twin(key):
    """The name of a string's text (when it spells one), or the string of a name's."""
    if isinstance(key, tuple):
        return key[1] if spells_name(key[1]) else None
    return constant_key(Text(key)) if isinstance(key, str) else None


def _twin_message(checker, items, stmt, atom, rel, arg):
    never = _never(stmt, atom, rel)
    if isinstance(arg, N.Str):
        return (f"the string {shown(arg.constant)} is not the name {arg.value}: nothing puts the string at "
                f"this position of '{rel}', but the name can stand there ({_where(checker, items, rel, arg.value)}), "
                f"so {never}. As in clingo, a quoted string and a name are different constants: write "
                f"{arg.value} for the name")
    return (f"the name {arg.id} is not the string \"{arg.id}\": only the string is put at this position of "
            f"'{rel}', so {never}. As in clingo, a name and a quoted string are different constants: "
            f"write \"{arg.id}\" for the string")


def _where(checker, items, rel, key):
    """What holds the name: a load of the relation, a fact, or some load."""
    loads = checker.loaded_constants.items()
    if any(key in names for (r, _), names in loads if r == rel):
        return f"the load of '{rel}' holds it"
    origin = constant_origin(checker, items, key)
    return "a load holds it" if origin == FALLBACK and any(key in names for _, names in loads) else origin


def _warn_mixed_facts(checker, items, columns):
    """Facts that put a string and the name of its text at one position of a relation: one is most
    likely the other misspelt (`"x"` for the name x was an idiom)."""
    for rel in checker.relations.values():
        for k, col in enumerate(columns[rel.name]):
            for text in sorted(key[1] for key in col if isinstance(key, tuple) and key[1] in col):
                span = _first_fact(checker, items, rel.name, k, constant_key(Text(text)))
                checker.warn(ConstantNameWarning,
                             f"facts of '{rel.name}' put both the string \"{text}\" and the name {text} at "
                             f"position {k + 1}: as in clingo they are different constants (no rule matches one "
                             f"with the other); write one of them", span)


def _first_fact(checker, items, rel, k, key):
    """The span of the first fact of rel that holds key at position k."""
    for call in checker.relations[rel].facts:
        if _key(call.args[k]) == key:
            return call.args[k].span
    for item in items:
        if isinstance(item, N.Facts) and item.name == rel:
            for r, row in enumerate(item.rows):
                if constant_key(row[k]) == key:
                    return arg_span(item, r, k, checker.sources[item.span.file or checker.filename])
    return None


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
            if isinstance(a, N.Str) or isinstance(a, N.Name) and a.role == "const":
                yield stmt, atom, rel, k, a


def _grows(dom):
    return dom is not None and dom.grows


def _fact_columns(checker):
    """relation name -> the set of constants its facts hold at each position (a knowledge base of
    many fact lines is transposed at once)."""
    out = {}
    for rel in checker.relations.values():
        cols = [set(map(constant_key, col)) for col in zip(*rel.fact_rows)] if rel.fact_rows else \
            [set() for _ in range(rel.arity)]
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


def _held(checker, items, columns, loads=None):
    """(relation, position) -> the constants (`constant_key`s) that can stand there, or ANY; with
    `loads` ((relation, position) -> the program's constants a load puts there), a loaded relation
    holds those beside its facts: the program's own constants are told, no others."""
    held = {}
    loaded = {i.name for i in items if isinstance(i, N.Load)}
    for rel in checker.relations.values():
        told = loads is not None and rel.name in loaded and not rel.rows
        external = rel.name in loaded and not told or rel.rows or \
            not (rel.facts or rel.fact_rows or rel.rules or told)
        for k, (dom, names) in enumerate(zip(rel.domains, columns[rel.name])):
            held[(rel.name, k)] = ANY if external or not _grows(dom) else \
                set(names) | (loads.get((rel.name, k), set()) if told else set())
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
    """An argument's constant as a `constant_key` (a string apart from the name of its text)."""
    if isinstance(a, N.Name):
        return a.key if a.key is not None else a.id
    if isinstance(a, N.Str):
        return constant_key(a.constant)
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
                if key in map(constant_key, row):
                    return f"a fact of '{item.name}' holds it (line {line})"
    for d in checker.domains.values():
        if d.kind == "set" and key in map(constant_key, d.members):
            return f"domain {d.name} holds it"
    return FALLBACK
