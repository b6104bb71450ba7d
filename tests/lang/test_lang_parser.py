"""Every construct of LANGUAGE.md §1-§8 parses to the expected tree."""
import pytest

from tensorlogic.lang.syntax import nodes as N
from tensorlogic.lang.syntax.parser import parse


def one(src):
    items = parse(src).items
    assert len(items) == 1, items
    return items[0]


def expr(src):
    return one(f"let v = {src}").value


# ---- §1 lexical -------------------------------------------------------------------------------
def test_comments_and_separators():
    items = parse("// line\nlet a = 1 /* block\n comment */ ; let b = 2\n\n\n;;let c = 3 // end\n").items
    assert [i.name for i in items] == ["a", "b", "c"]


def test_identifiers_with_primes_and_unicode():
    e = expr("p' + p'' + été")
    assert [o.id for o in e.operands] == ["p'", "p''", "été"]


def test_numbers_strings_booleans():
    e = expr('[1, 2.5, 1e3, 2.5e-2, "a\\"b", true, false]')
    vals = [i.value for i in e.items]
    assert vals == [1, 2.5, 1000.0, 0.025, 'a"b', True, False]
    assert isinstance(vals[0], int) and isinstance(vals[2], float)


@pytest.mark.parametrize("arrow", ["<-", "\u2190"])
def test_both_arrows(arrow):
    r = one(f"A(x) {arrow} B(x)")
    assert isinstance(r, N.Rule) and r.head.name == "A" and r.body[0].expr.name == "B"


def test_newline_continues_after_operator_and_inside_brackets():
    a = one("Y[i] = A[i] +\n    B[i]")
    assert isinstance(a.value, N.BinChain) and a.value.ops == ["+"]
    a = one("Y[i] = relu(\n  W[i, j]\n  X[j]\n)")
    assert isinstance(a.value.args[0], N.Juxt)
    r = one("H(x) <- A(x),\n   B(x)")
    assert len(r.body) == 2


def test_block_close_ends_statement_on_same_line():
    items = parse("for i in range(3) { print(i) }   while c < 10 { c = c + 1 }").items
    assert isinstance(items[0], N.For) and isinstance(items[1], N.While)


# ---- §2 declarations --------------------------------------------------------------------------
def test_domains():
    items = parse("domain Person = {Alice, Bob, Charlie}\nentity City = {\n  Paris,\n  \"New York\",\n}\n"
                  "domain Pos = 0..128\ndomain Open\ndomain Neg = -2..3").items
    p, c, pos, o, neg = items
    assert p.kind == "set" and [m.id for m in p.members] == ["Alice", "Bob", "Charlie"]
    assert c.kind == "set" and c.members[1].value == "New York"
    assert (pos.kind, pos.start, pos.stop) == ("range", 0, 128)
    assert o.kind == "open"
    assert (neg.start, neg.stop) == (-2, 3)


def test_relation_declarations():
    r = one("relation Parent(x: Person, y: Person)")
    assert [(p.name, p.domain) for p in r.params] == [("x", "Person"), ("y", "Person")]
    r = one("relation Edge(Node, Node)")
    assert [(p.name, p.domain) for p in r.params] == [("Node", None), ("Node", None)]


def test_tensor_declarations():
    w = one("tensor W: float16[4, 8] learnable = randn(4, 8) * 0.1")
    assert (w.name, w.type.dtype, [d.value for d in w.type.dims], w.mode) == ("W", "float16", [4, 8], "learnable")
    assert isinstance(w.init, N.BinChain)
    x = one("tensor X: float16[8] = [1, 0, 1, 0, 1, 0, 1, 0]")
    assert x.mode == "frozen" and len(x.init.items) == 8
    i = one("tensor Idx: int32[3] = [0, 2, 1]")
    assert i.type.dtype == "int32"
    z = one("tensor Z: float16[n, ?, Person] frozen")
    assert [(d.kind, d.value) for d in z.type.dims] == [("name", "n"), ("any", None), ("name", "Person")]
    assert z.init is None
    s = one("tensor lr: float16 = 0.1")
    assert s.type.dims == []


# ---- §3 facts, rules, queries -----------------------------------------------------------------
def test_facts_rules_queries():
    items = parse("""
Parent(Alice, Bob)
Ancestor(x, z) <- Ancestor(x, y), Parent(y, z)
Sibling(x, y) <- Parent(p, x), Parent(p, y), not Same(x, y)
Ancestor(Alice, x)?
Ancestor(x, y), not Parent(x, y)?
""").items
    fact, rule, sib, q1, q2 = items
    assert isinstance(fact, N.Facts) and fact.name == "Parent" and fact.rows == [("Alice", "Bob")]
    assert [l.expr.name for l in rule.body] == ["Ancestor", "Parent"]
    assert [l.negated for l in sib.body] == [False, False, True]
    assert isinstance(q1, N.Query) and q1.literals[0].expr.name == "Ancestor"
    assert [l.negated for l in q2.literals] == [False, True]


def test_rule_with_comparison():
    r = one("S(x, y) <- P(p, x), P(p, y), x != y")
    assert isinstance(r.body[2].expr, N.Compare) and r.body[2].expr.op == "!="


# ---- §4 equations -----------------------------------------------------------------------------
def test_juxtaposition_binds_tighter_than_plus():
    a = one("Y[i] = relu(W[i, j] X[j] + B[i])")
    inner = a.value.args[0]
    assert isinstance(inner, N.BinChain) and inner.ops == ["+"]
    assert isinstance(inner.operands[0], N.Juxt) and len(inner.operands[0].factors) == 2


def test_juxtaposition_binds_tighter_than_division_and_power_tighter_still():
    a = one("C[p, q] = Q[p, d] K[q, d] / sqrt(64)")
    assert isinstance(a.value, N.BinChain) and a.value.ops == ["/"]
    assert isinstance(a.value.operands[0], N.Juxt)
    a = one("Y[i] = A[i] B[i] ^ 2")
    assert isinstance(a.value, N.Juxt) and isinstance(a.value.factors[1], N.Power)


def test_call_is_not_juxtaposition_but_indexed_paren_is():
    a = one("Y[i] = f(X[i])")
    assert isinstance(a.value, N.Call)
    a = one("Y[i] = X[i] (A[i] + B[i])")
    assert isinstance(a.value, N.Juxt)


def test_unary_minus_after_factor_is_subtraction():
    a = one("Y[i] = A[i] -B[i]")
    assert isinstance(a.value, N.BinChain) and a.value.ops == ["-"]


def test_normalised_axis_marks():
    a = one("Comp[p, p'.] = softmax(Q[p, d] K[p', d] / sqrt(64))")
    assert [(i.expr.id, i.marked) for i in a.target.groups[0]] == [("p", False), ("p'", True)]
    a = one("Stream[p, d.] = lnorm(Attn[p, d] + X[p, d])")
    assert a.target.groups[0][1].marked


@pytest.mark.parametrize("op", ["max=", "avg=", "min=", "="])
def test_projections(op):
    a = one(f"Pooled[x / 2, y / 2] {op} Features[x, y]")
    assert a.op == op
    first = a.target.groups[0][0].expr
    assert isinstance(first, N.BinChain) and first.ops == ["/"]


def test_index_arithmetic():
    a = one("Y[x, y] = W[dx, dy] X[x + dx, y + dy] + X[i - 1, 2 * j] + X[i % 3, 0]")
    idx = a.value.operands[0].factors[1].groups[0]
    assert [i.expr.ops for i in idx] == [["+"], ["+"]]


def test_query_of_tensor_and_scalar_equation():
    q = one("Y?")
    assert isinstance(q, N.Query) and q.literals[0].expr.id == "Y"
    a = one("Loss = (Pred[i] - Y[i]) ^ 2")
    assert isinstance(a.target, N.Name) and isinstance(a.value, N.Power)


def test_boolean_and_numeric_mix():
    a = one("Agg[n, d] = Neig(n, n') Z[n', d]")
    assert isinstance(a.value.factors[0], N.Call) and isinstance(a.value.factors[1], N.Index)


def test_sig_with_temperature():
    a = one("D[a, b] = sig(EmbR[i, j] Emb[a, i] Emb[b, j] - 0.5, T)")
    assert a.value.name == "sig" and len(a.value.args) == 2


def test_power_is_right_associative_and_takes_negative_exponent():
    e = expr("2 ^ 3 ** -1")
    assert isinstance(e, N.Power) and len(e.operands) == 3
    assert isinstance(e.operands[2], N.Prefix)


# ---- §5 statements and functions --------------------------------------------------------------
def test_function():
    f = one("fn mlp(x: float16[?, 8]) -> float16[?, 4] { relu(x @ W1) @ W2 }")
    assert f.name == "mlp" and f.params[0].type.dims[0].kind == "any" and f.ret.dims[1].value == 4
    assert isinstance(f.body[0].expr, N.BinChain) and f.body[0].expr.ops == ["@"]


def test_let_if_else_chain():
    items = parse('let s = sum(X) ; if s > 2 { print("big", s) } else if s > 1 { print("mid") } '
                  'else { print("small") }').items
    let, cond = items
    assert let.name == "s" and isinstance(cond, N.If)
    assert isinstance(cond.orelse[0], N.If) and cond.orelse[0].orelse is not None


def test_else_on_next_line():
    cond = one("if a {\n b = 1\n}\nelse {\n b = 2\n}")
    assert cond.orelse is not None


def test_loops_main_test_import_return():
    items = parse('for i in range(3) { print(i) }\nwhile c < 10 { c = c + 1 }\nmain { print(1) }\n'
                  'test name { assert(1 == 1) }\ntest "with spaces" { assert(true, "msg") }\n'
                  'import "other.tl"\nfn f(a) { return a * 2 }').items
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["For", "While", "MainBlock", "TestBlock", "TestBlock", "Import", "FnDecl"]
    assert items[4].name == "with spaces" and items[5].path == "other.tl"
    assert isinstance(items[6].body[0], N.Return)


def test_operators_and_precedence():
    e = expr("!a && b || c == d")
    assert isinstance(e, N.BinChain) and e.ops == ["||"]
    assert isinstance(e.operands[0], N.BinChain) and e.operands[0].ops == ["&&"]
    assert isinstance(e.operands[0].operands[0], N.Prefix)
    e = expr("a + b * c % d - e @ f")
    assert e.ops == ["+", "-"] and e.operands[1].ops == ["*", "%"]


def test_indexing_slices_and_calls_with_keywords():
    e = expr("X[0, 1:3, :, ::2]")
    items = e.groups[0]
    assert isinstance(items[0], N.Idx) and all(isinstance(i, N.Slice) for i in items[1:])
    assert items[3].step.value == 2
    e = expr('einsum("ij,jk->ik", A, B)')
    assert e.args[0].value == "ij,jk->ik"
    e = expr("softmax(X, dim: 1)")
    assert e.kwargs[0].name == "dim"
    e = expr("softmax(X, dim = 1)")
    assert e.kwargs[0].name == "dim"
    e = expr("(1, 2)")
    assert isinstance(e, N.TupleLit) and len(e.items) == 2
    assert isinstance(expr("()"), N.TupleLit) and isinstance(expr("(1,)"), N.TupleLit)


# ---- §6 learning ------------------------------------------------------------------------------
def test_learn_block():
    l = one("""learn {
    Pred[i] = sig(W[j] X[i, j])
    Loss = (Pred[i] - Y[i]) ^ 2
    objective: Loss,
    optimizer: adam(lr: 0.01, betas: (0.9, 0.999), weight_decay: 0.0),
    epochs: 200,
    scheduler: cosine(t_max: 200)
}""")
    assert [type(s).__name__ for s in l.body] == ["Assign", "Assign"]
    assert [s.key for s in l.settings] == ["objective", "optimizer", "epochs", "scheduler"]
    opt = l.settings[1].value
    assert opt.name == "adam" and [k.name for k in opt.kwargs] == ["lr", "betas", "weight_decay"]


def test_learn_settings_on_one_line():
    l = one("learn { L = W[i] W[i]; objective: L, epochs: 3, optimizer: sgd(lr: 0.1) }")
    assert [s.key for s in l.settings] == ["objective", "epochs", "optimizer"]


# ---- positions --------------------------------------------------------------------------------
def test_spans_are_one_based_and_carry_the_file():
    p = parse("\n  Y[i] = X[i]", "f.tl")
    a = p.items[0]
    assert (a.span.line, a.span.column, a.span.file) == (2, 3, "f.tl")
    assert (a.value.span.line, a.value.span.column, a.value.span.end_column) == (2, 10, 14)


def test_empty_program():
    assert parse("").items == [] and parse("\n\n// nothing\n").items == []
