"""A quoted string where only the name of its text is held, or the name where only the string is
(the old idiom `"x"` for the name x): a ConstantNameWarning at the argument, and the atom indeed
never holds, as clingo says; no warning where the string is held (a fact, a rule's head, a load).
Random facts with fresh seeds."""
import random
import warnings

from fuzz_logic_clingo import clingo_model, tag

from tensorlogic import lang
from tensorlogic.lang.errors import ConstantNameWarning


def checked(src, filename="prog.tl"):
    """The program run, and its ConstantNameWarnings as (line, column, message)."""
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        prog = lang.compile(src, filename)
        prog.run()
    return prog, [(w.message.lineno, w.message.column, w.message.message) for w in got
                  if issubclass(w.category, ConstantNameWarning)]


def rows(prog, query):
    got = prog.query(query)
    return {()} if got is True else set() if got is False else {tuple(map(tag, r.values())) for r in got}


def random_lives(rng, quoted):
    people = [f"p{k}" for k in range(rng.randrange(2, 6))]
    cities = [f"c{k}" for k in range(rng.randrange(2, 5))]
    facts = sorted({(rng.choice(people), rng.choice(cities)) for _ in range(rng.randrange(3, 10))})
    city = (lambda c: f'"{c}"') if quoted else (lambda c: c)
    return facts, "".join(f"Lives({p}, {city(c)})\n" for p, c in facts), \
        "".join(f"lives({p}, {city(c)}).\n" for p, c in facts)


def test_a_string_where_only_its_name_is_held_warns_and_matches_clingo():
    rng = random.Random()
    facts, src, lp = random_lives(rng, quoted=False)
    held = rng.choice(facts)[1]
    rules = f'In(x) <- Lives(x, "{held}")\nVia(x, y) <- Lives(x, y)\n'
    prog, warned = checked(src + rules + f'Via(x, "{held}")?\n')
    n = len(facts)
    assert [(line, col) for line, col, _ in warned] == [(n + 1, 19), (n + 3, 8)]
    assert f'the string "{held}" is not the name {held}' in warned[0][2] and f"write {held} for" in warned[0][2]
    assert "a fact of 'Lives'" in warned[0][2] and "a fact of 'Lives'" in warned[1][2]
    model = clingo_model(lp + f'in(X) :- lives(X, "{held}"). via(X, Y) :- lives(X, Y). '
                              f'ans(X) :- via(X, "{held}").', tagged=True)
    assert rows(prog, "In(x)") == model.get("in", set()) == set()
    assert rows(prog, f'Via(x, "{held}")') == model.get("ans", set()) == set()
    # the name itself: no warning, clingo's answer
    prog, warned = checked(src + f"In(x) <- Lives(x, {held})\n")
    assert warned == [] and rows(prog, "In(x)") == clingo_model(lp + f"in(X) :- lives(X, {held}).", True)["in"]


def test_a_name_where_only_its_string_is_held_warns_and_matches_clingo():
    rng = random.Random()
    facts, src, lp = random_lives(rng, quoted=True)
    held = rng.choice(facts)[1]
    # (a fact elsewhere makes the name a constant: without one, it would be a variable)
    prog, warned = checked(src + f"City({held})\nIn(x) <- Lives(x, {held}), not Lives(x, {held})\n")
    assert len(warned) == 1 and warned[0][:2] == (len(facts) + 2, 19)
    assert f'the name {held} is not the string "{held}"' in warned[0][2]
    model = clingo_model(lp + f"city({held}). in(X) :- lives(X, {held}), not lives(X, {held}).", tagged=True)
    assert rows(prog, "In(x)") == model.get("in", set()) == set()
    # the string a fact holds: no warning, clingo's answer
    prog, warned = checked(src + f'City({held})\nIn(x) <- Lives(x, "{held}")\n')
    assert warned == [] and rows(prog, "In(x)") == clingo_model(lp + f'in(X) :- lives(X, "{held}").', True)["in"]


def test_a_string_a_rule_head_or_a_fact_holds_gives_no_warning():
    rng = random.Random()
    facts, src, lp = random_lives(rng, quoted=False)
    held = rng.choice(facts)[1]
    extra = f'Lives(x, "{held}") <- Lives(x, {held})\nIn(x) <- Lives(x, "{held}")\nAway("{held}")\nOut(x) <- Away(x)\n'
    prog, warned = checked(src + extra + f'Out("{held}")?\n')
    assert warned == []
    model = clingo_model(lp + f'lives(X, "{held}") :- lives(X, {held}). in(X) :- lives(X, "{held}"). '
                              f'away("{held}"). out(X) :- away(X).', tagged=True)
    assert rows(prog, "In(x)") == model["in"] != set()


def test_facts_that_hold_a_string_and_its_name_at_one_position_warn_once():
    prog, warned = checked('Lives(ann, paris)\nLives(bob, rome)\nLives(cid, "paris")\nLives(dee, "paris")\n'
                           'Lives(eve, "New York")\n')
    assert len(warned) == 1 and warned[0][:2] == (3, 12)
    assert "facts of 'Lives' put both the string \"paris\" and the name paris at position 2" in warned[0][2]


def test_a_loaded_name_read_as_a_string_warns(tmp_path):
    rng = random.Random()
    facts, _, lp = random_lives(rng, quoted=False)
    facts.append(("pz", "New York"))
    (tmp_path / "lives.tsv").write_text("".join(f"{p}\t{c}\n" for p, c in facts))
    held = facts[0][1]
    src = (f'load Lives from "lives.tsv"\nIn(x) <- Lives(x, "{held}")\nNY(x) <- Lives(x, "New York")\n'
           f"Via(y) <- Lives(_, y)\nVia(\"{held}\")?\n")
    prog, warned = checked(src, str(tmp_path / "prog.tl"))
    assert [(line, col) for line, col, _ in warned] == [(2, 19), (5, 5)]
    assert "the load of 'Lives' holds it" in warned[0][2] and "a load holds it" in warned[1][2]
    model = clingo_model(lp + 'lives(pz, "New York"). ny(X) :- lives(X, "New York").', tagged=True)
    assert rows(prog, "In(x)") == set() and rows(prog, "NY(x)") == model["ny"] == {(("str", "pz"),)}
