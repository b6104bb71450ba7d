"""The oracles' one clingo call: a program's answer set as {predicate: {argument tuples}}."""
import clingo


def clingo_model(program):
    """Grounds and solves `program`; numbers stay ints, names become strings."""
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], program)
    ctl.ground([("base", [])])
    atoms = []
    ctl.solve(on_model=lambda m: atoms.extend(m.symbols(atoms=True)))
    out = {}
    for a in atoms:
        out.setdefault(a.name, set()).add(tuple(x.number if x.type == clingo.SymbolType.Number else x.name
                                                for x in a.arguments))
    return out


def binding_rows(model, name, names, order, where=lambda row: True, keep=None):
    """The rows of predicate `name` as `tl run` prints a query's bindings ("x = a, n = 2"), sorted as the language
    orders constants (names by their place in `order`, numbers by value); `where` filters rows, `keep` picks the
    printed arguments (all by default)."""
    def key(row):
        return tuple(order.index(x) if isinstance(x, str) else x for x in row)

    got = sorted((row for row in model.get(name, ()) if where(row)), key=key)
    keep = keep if keep is not None else range(len(names))
    return [", ".join(f"{names[k]} = {row[k]}" for k in keep) for row in got]
