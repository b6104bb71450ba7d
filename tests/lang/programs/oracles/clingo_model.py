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
