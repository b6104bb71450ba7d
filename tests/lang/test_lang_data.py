"""Bulk data without the parser: `load NAME from "file"` (.tsv, .csv, .npy, .safetensors),
`Program.add_facts` and `Program.set`, and the parser's fast path for fact lines."""
import random

import numpy as np
import pytest
from safetensors.numpy import save_file

from tensorlogic import lang
from tensorlogic.lang import TensorLogicTypeError
from tensorlogic.lang.syntax import nodes as N
from tensorlogic.lang.syntax.parser import parse

CLOSURE = "Path(x, y) <- Edge(x, y)\nPath(x, z) <- Path(x, y), Edge(y, z)\n"


def closure(edges):
    """Reachability by repeated squaring in numpy (the oracle)."""
    nodes = sorted({v for e in edges for v in e})
    index = {v: k for k, v in enumerate(nodes)}
    m = np.zeros((len(nodes), len(nodes)), bool)
    for a, b in edges:
        m[index[a], index[b]] = True
    while True:
        nxt = m | (m.astype(int) @ m.astype(int) > 0)
        if (nxt == m).all():
            return {(nodes[i], nodes[j]) for i, j in zip(*np.nonzero(m))}
        m = nxt


def random_edges(rng, names, n):
    return sorted({(rng.choice(names), rng.choice(names)) for _ in range(n)})


def paths(prog):
    return {(r["x"], r["y"]) for r in prog.query("Path(x, y)")}


def test_load_tsv_and_csv_facts(tmp_path):
    rng = random.Random()
    edges = random_edges(rng, [f"n{k}" for k in range(12)], 25)
    (tmp_path / "edges.tsv").write_text("".join(f"{a}\t{b}\n" for a, b in edges))
    (tmp_path / "edges.csv").write_text("".join(f"{a},{b}\n" for a, b in edges))
    for name in ("edges.tsv", "edges.csv"):
        prog = lang.run(f'load Edge from "{name}"\n' + CLOSURE, str(tmp_path / "kb.tl"))
        assert paths(prog) == closure(edges)


def test_names_of_a_loaded_file_are_constants_in_the_program(tmp_path, capsys):
    # As written facts' names are (LANGUAGE.md §3): `Path(a, x)?` asks what a reaches; `a` was a
    # variable before, and the query printed every pair.
    rng = random.Random()
    names = ["a", "b", "c", "d", "e"]
    edges = random_edges(rng, names, 8) + [("a", "b")]
    (tmp_path / "edges.tsv").write_text("".join(f"{x}\t{y}\n" for x, y in edges))
    lang.run('load Edge from "edges.tsv"\n' + CLOSURE + "Path(a, x)?\n", str(tmp_path / "kb.tl"))
    got = {line.removeprefix("x = ") for line in capsys.readouterr().out.splitlines()}
    assert got == {y for x, y in closure(edges) if x == "a"}
    # the checker's read serves the run, unless the file changed in between
    prog = lang.compile('load Edge from "edges.tsv"\n' + CLOSURE, str(tmp_path / "kb.tl"))
    edges = random_edges(rng, names, 12) + [("e", "a"), ("a", "e")]
    (tmp_path / "edges.tsv").write_text("".join(f"{x}\t{y}\n" for x, y in edges))
    assert paths(prog.run()) == closure(edges)


def test_loaded_text_is_the_constant_a_program_writes_for_it(tmp_path):
    # A value that is a name (ann) loads as the name; one that no name spells ("New York", a keyword)
    # as the string, so that a quoted constant in the program reaches it, as bare `ann` reaches ann.
    rng = random.Random()
    cities = ["New York", "São Paulo", "ann", "Oslo", "not", "x-1"]
    flights = random_edges(rng, cities, 10) + [("New York", "ann"), ("ann", "Oslo")]
    (tmp_path / "flights.tsv").write_text("".join(f"{a}\t{b}\n" for a, b in flights))
    prog = lang.run('load Edge from "flights.tsv"\n' + CLOSURE, str(tmp_path / "kb.tl"))
    reach = closure(flights)
    assert {r["y"] for r in prog.query('Path("New York", y)')} == {b for a, b in reach if a == "New York"}
    assert {r["y"] for r in prog.query("Path(ann, y)")} == {b for a, b in reach if a == "ann"}
    assert prog.query('Path("ann", y)') == []  # the string "ann" is another constant, which no fact holds
    kinds = {r["x"]: type(r["x"]) for r in prog.query("Edge(x, y)")}
    assert kinds.get("ann", str) is str and all(kinds[c] is lang.Text for c in kinds if c not in ("ann", "Oslo"))


def test_load_integer_facts_into_a_declared_relation(tmp_path, rng):
    edges = np.unique(rng.integers(0, 9, size=(20, 2)), axis=0)
    np.save(tmp_path / "e.npy", edges)
    prog = lang.run('domain Node = 0..9\nrelation Edge(a: Node, b: Node)\nload Edge from "e.npy"\n' + CLOSURE,
                    str(tmp_path / "kb.tl"))
    assert paths(prog) == closure([tuple(e) for e in edges.tolist()])
    with pytest.raises(TensorLogicTypeError, match="12 .argument 0 of Edge. is not in domain Node"):
        np.save(tmp_path / "bad.npy", np.array([[12, 1]]))
        lang.run('domain Node = 0..9\nrelation Edge(a: Node, b: Node)\nload Edge from "bad.npy"\n',
                 str(tmp_path / "kb.tl"))


def test_load_mixed_columns_gives_integers_where_a_column_holds_only_integers(tmp_path):
    """`ann,90`: the names stay names, the scores are integers to compare and add (the whole file was read
    as names: 'Score.1 holds no integers to compute with')."""
    rng = random.Random()
    rows = {f"p{k}": rng.randrange(-50, 100) for k in range(rng.randrange(3, 9))}
    for name, sep in (("s.csv", ","), ("s.tsv", "\t")):
        (tmp_path / name).write_text("".join(f"{p}{sep}{v}\n" for p, v in rows.items()))
        prog = lang.run(f'load Score from "{name}"\nPass(p) <- Score(p, n), n >= 60\n'
                        'Total(sum(n)) <- Score(p, n)\n', str(tmp_path / "kb.tl"))
        assert {r["p"] for r in prog.query("Pass(p)")} == {p for p, v in rows.items() if v >= 60}, rows
        assert prog.query("Total(t)") == [{"t": sum(rows.values())}], rows


def test_load_tensors(tmp_path, rng):
    w = rng.standard_normal((3, 4)).astype(np.float16)
    np.save(tmp_path / "w.npy", w)
    save_file({"W": w, "b": w[0]}, str(tmp_path / "m.safetensors"))
    (tmp_path / "m.tsv").write_text("1\t2\n3\t4\n")
    prog = lang.run('tensor W: float16[3, 4]\nload W from "w.npy"\nload b from "m.safetensors"\n'
                    'tensor M: float16[2, 2]\nload M from "m.tsv"\nY[i] = W[i, j] b[j]\n', str(tmp_path / "p.tl"))
    np.testing.assert_array_equal(prog["W"].numpy(), w)
    np.testing.assert_allclose(prog["Y"].numpy().astype(float),
                               w.astype(float) @ w[0].astype(float), rtol=1e-2, atol=1e-2)
    np.testing.assert_array_equal(prog["M"].numpy(), [[1, 2], [3, 4]])


def test_load_errors_are_located(tmp_path):
    (tmp_path / "x.txt").write_text("a\tb\n")
    with pytest.raises(TensorLogicTypeError) as info:
        lang.run('load Edge from "x.txt"\n', str(tmp_path / "p.tl"))
    assert info.value.lineno == 1 and "use a .tsv, .csv, .npy or .safetensors file" in str(info.value)
    with pytest.raises(TensorLogicTypeError, match="no such file"):
        lang.run('load Edge from "missing.tsv"\n', str(tmp_path / "p.tl"))
    (tmp_path / "ragged.tsv").write_text("a\tb\nc\n")
    with pytest.raises(TensorLogicTypeError, match="rows of different lengths"):
        lang.run('load Edge from "ragged.tsv"\n', str(tmp_path / "p.tl"))


def test_add_facts_and_set_from_python():
    rng = random.Random()
    edges = random_edges(rng, [f"c{k}" for k in range(10)], 20)
    prog = lang.compile("relation Edge(x, y)\n" + CLOSURE + "tensor W: float16[2] = [1, 1]\nV[i] = W[i] * 2\n")
    prog.add_facts("Edge", np.array(edges[:10])).run()
    assert paths(prog) == closure(edges[:10])
    prog.add_facts("Edge", edges[10:])
    assert paths(prog) == closure(edges)
    prog.set("W", [3.0, 4.0])
    np.testing.assert_array_equal(prog["V"].numpy(), [6, 8])
    with pytest.raises(KeyError):
        prog.add_facts("Nope", [("a", "b")])
    with pytest.raises(KeyError):
        prog.set("V", [1.0, 1.0])


@pytest.mark.parametrize("storage", [None, "sparse"])
def test_add_facts_of_integers_and_names(storage):
    # Found by the logic fuzzer: a list of tuples mixing integers and names went through a numpy
    # array (1 became "1"); a relation without arguments took no fact; loaded names were variables
    # in queries; loaded integers were indices, wrong once a rule grew their domain downwards.
    prog = lang.compile("relation E(a, b)\nrelation F()\nrelation N(a)\nP(x) <- E(x, y), y == 1\n"
                        "M(y) <- N(x), y == x - 10\nQ(x) <- N(x), not M(x), F()\n")
    for r in ("E", "F", "N", "P", "M", "Q") if storage else ():
        prog.storage(r, storage)
    prog.add_facts("E", [(1, "a"), ("b", 1), (-2, 1)]).add_facts("F", [()]).add_facts("N", [(3,), (-4,)])
    prog.run()
    assert {(r["x"], r["y"]) for r in prog.query("E(x, y)")} == {(1, "a"), ("b", 1), (-2, 1)}
    assert {r["x"] for r in prog.query("P(x)")} == {"b", -2}
    assert prog.query("E(b, y)") == [{"y": 1}] and prog.query("F()") is True
    assert {r["x"] for r in prog.query("M(x)")} == {-7, -14}
    assert {r["x"] for r in prog.query("Q(x)")} == {3, -4} and prog.query("N(-4)") is True


def test_fact_fast_path_gives_the_parsers_answers():
    rng = random.Random()
    edges = random_edges(rng, [f"n{k}" for k in range(15)], 30)
    lines = [f"Edge({a}, {b})" for a, b in edges]
    fast = lang.run("\n".join(lines) + "\n" + CLOSURE)
    # The same facts inside a block statement go through the LALR parser.
    slow = lang.run("main {\n" + "\n".join(lines) + "\n}\n" + CLOSURE)
    assert paths(fast) == paths(slow) == closure(edges)
    items = parse('Age("Bob", 42)\nAge(Ann, -3) // note\n\nAge(Cy, 7);\nx = 1\nAge(Di, 1)\n').items
    assert [type(i).__name__ for i in items] == ["Facts", "Assign", "Facts"]
    assert items[0].rows == [("Bob", 42), ("Ann", -3), ("Cy", 7)] and items[0].lines == [1, 2, 4]
    # A quoted string is a `Text` (another constant than the name Bob), a name a plain str.
    assert [type(r[0]) for r in items[0].rows] == [lang.Text, str, str]
    # Lines that continue an expression or sit in brackets are not facts.
    assert isinstance(parse("let x = 1 +\nf(2)\n").items[0], N.Let)


def test_fast_path_error_positions():
    with pytest.raises(TensorLogicTypeError) as info:
        lang.run("domain P = {a, b}\nrelation R(x: P)\nR(a)\nR(  zz)\n")
    assert (info.value.lineno, info.value.offset) == (4, 5) and "'zz' is not in domain P" in str(info.value)
