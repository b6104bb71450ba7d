"""The seed language's constructs (issue 12): each parses, checks, runs with the seed's meaning
(against numpy), and gives a located error when misused."""
import math

import numpy as np
import pytest

import tensorlogic as tl
from tensorlogic import lang
from tensorlogic.lang import TensorLogicSyntaxError, TensorLogicTypeError
from tensorlogic.lang.syntax import nodes as N
from tensorlogic.lang.syntax.parser import parse


def run(src, **kw):
    return lang.run(src, "prog.tl", **kw)


def out(src, capsys):
    run(src)
    return capsys.readouterr().out


def located(exc, src, line, col, text):
    with pytest.raises(exc) as info:
        run(src)
    err = info.value
    assert (err.lineno, err.offset) == (line, col), str(err)
    assert text in str(err)
    assert "^" in str(err)


# ---- sizes as lists, namespaced constructors ---------------------------------------------------
def test_sizes_as_lists(capsys):
    assert out("print(shape(ones([2, 3])), shape(zeros([4])), shape(reshape(ones(6), [3, 2])))\n"
               "let n = 2\nprint(shape(randn([n, 5])), shape(full([2, 2], 7.0)))\n", capsys) == \
        "(2, 3) (4,) (3, 2)\n(2, 5) (2, 2)\n"


def test_a_list_literal_is_the_data_that_reshape_and_broadcast_to_take(rng):
    x = rng.standard_normal(12).astype(np.float16)
    prog = run(f"let a = reshape({x.astype(float).tolist()}, [3, 4])\n"
               f"let b = permute({x.reshape(3, 4).astype(float).tolist()}, [1, 0])\n"
               f"let c = broadcast_to({x[:4].astype(float).tolist()}, [2, 4])\n")
    np.testing.assert_array_equal(prog["a"].numpy(), x.reshape(3, 4))
    np.testing.assert_array_equal(prog["b"].numpy(), x.reshape(3, 4).T)
    np.testing.assert_array_equal(prog["c"].numpy(), np.broadcast_to(x[:4], (2, 4)))


def test_namespaced_constructors(capsys):
    text = out("let a = f16::zeros([2, 3])\nlet b = f32::ones([2, 3])\nlet c = Tensor::ones([1, 3])\n"
               "print(sum(a + b + c))\n", capsys)
    assert text == "12\n"
    assert isinstance(parse("x = f32::ones([2])").items[0].value, N.Call)
    located(TensorLogicTypeError, "let a = f16::nope([2])\n", 1, 9, "unknown function of f16 'nope'")


# ---- the seed's builtins -------------------------------------------------------------------------
def test_positional_encoding_matches_the_formula():
    n, d = 7, 6
    pe = run("let pe = positional_encoding(7, 6)\n")["pe"].numpy().astype(np.float64)
    want = np.zeros((n, d))
    for p in range(n):
        for i in range(0, d, 2):
            want[p, i] = math.sin(p / 10000 ** (i / d))
            want[p, i + 1] = math.cos(p / 10000 ** (i / d))
    np.testing.assert_allclose(pe, want, atol=2e-3)


def test_rope_rotates_pairs_by_position(rng):
    x = rng.standard_normal((5, 2, 4)).astype(np.float16)
    got = run(f"let y = rope({x.astype(float).tolist()}, 3)\n")["y"].numpy().astype(np.float64)
    want = np.empty((5, 2, 4))
    for p in range(5):
        for i in range(2):
            theta = (3 + p) * 10000.0 ** (-2 * i / 4)
            c, s = math.cos(theta), math.sin(theta)
            a, b = x[p, :, 2 * i].astype(np.float64), x[p, :, 2 * i + 1].astype(np.float64)
            want[p, :, 2 * i], want[p, :, 2 * i + 1] = a * c - b * s, a * s + b * c
    np.testing.assert_allclose(got, want, atol=1e-2)


def test_tan_transe_and_relational_aggregate(rng):
    h, r, t = (rng.standard_normal(4).round(2) for _ in range(3))
    src = (f"let h = {h.tolist()}\nlet r = {r.tolist()}\nlet t = {t.tolist()}\n"
           "let s2 = transe_score(h, r, t)\nlet s1 = transe_score(h, r, t, 1)\n"
           "let tn = tan([0.1, 0.5])\n"
           "let emb = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]\n"
           "let adj = [[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]]\n"
           "let w = [[[2.0, 0.0], [0.0, 3.0]]]\n"
           "let agg = relational_aggregate(emb, adj, w)\n")
    prog = run(src)
    h16, r16, t16 = (a.astype(np.float16).astype(np.float64) for a in (h, r, t))
    assert prog["s2"].item() == pytest.approx(-np.linalg.norm(h16 + r16 - t16), rel=5e-3, abs=5e-3)
    assert prog["s1"].item() == pytest.approx(-np.abs(h16 + r16 - t16).sum(), rel=5e-3, abs=5e-3)
    np.testing.assert_allclose(prog["tn"].numpy().astype(float), np.tan([0.1, 0.5]), atol=2e-3)
    emb = np.array([[1, 0], [0, 1], [1, 1]], float)
    adj = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], float)
    np.testing.assert_allclose(prog["agg"].numpy().astype(float), adj @ emb @ np.diag([2, 3]))


def test_transpose_vec_from_vec_slice_last(capsys):
    assert out("let m = [[1, 2, 3], [4, 5, 6]]\nprint(transpose(m))\nprint(vec(m))\n"
               "print(from_vec([1, 2, 3, 4, 5, 6], [3, 2]))\nprint(slice_last(m, 0), slice_last(m, 1))\n",
               capsys) == ("[[1., 4.],\n [2., 5.],\n [3., 6.]]\n[1., 2., 3., 4., 5., 6.]\n"
                           "[[1., 2.],\n [3., 4.],\n [5., 6.]]\n[4., 5., 6.] [3., 6.]\n")
    located(TensorLogicTypeError, "let v = from_vec([1, 2, 3], [2, 2])\n", 1, 9, "do not fill shape")


# ---- declarations inside blocks, flat literals ---------------------------------------------------
def test_tensor_declarations_inside_main_and_functions(capsys):
    src = """
fn make() -> float16[2, 2] {
    tensor local: float16[2, 2] = [1, 2, 3, 4]
    return local * 2
}
main {
    tensor a: float16[2, 3] = [1, 2, 3, 4, 5, 6]
    tensor z: float16[3]
    print(a, make(), z)
}
"""
    prog = run(src)
    np.testing.assert_array_equal(prog["a"].numpy(), [[1, 2, 3], [4, 5, 6]])
    assert "[[2., 4.],\n [6., 8.]]" in capsys.readouterr().out
    located(TensorLogicTypeError, "main {\n    tensor a: float16[2, 2] = [1, 2, 3]\n}\n", 2, 12,
            "declared float16[2, 2] but its value has shape [3]")


def test_flat_literal_takes_declared_shape():
    prog = run("tensor a: float16[6, 4] = [" + ", ".join(str(k) for k in range(24)) + "]\n")
    np.testing.assert_array_equal(prog["a"].numpy(), np.arange(24).reshape(6, 4))


# ---- structs ---------------------------------------------------------------------------------------
STRUCTS = """
struct Point { x: float32, y: float32 }
impl Point {
    fn new(x: float32, y: float32) -> Point { return Point { x: x, y: y } }
    fn norm2(self) -> float32 { return self.x * self.x + self.y * self.y }
    fn shifted(self, d: float32) -> Point { Point { x: self.x + d, y: self.y + d } }
}
struct Box<T> { value: T }
impl<T> Box<T> { fn new(v: T) -> Box<T> { return Box<T> { value: v } } }
"""


def test_structs_fields_methods_generics(capsys):
    text = out(STRUCTS + """main {
    let p = Point::new(3.0, 4.0)
    let q = Point { x: 1.0, y: 2.0 }
    q.x = 5.0
    print(p.norm2(), q.x, p.shifted(1.0).shifted(1.0).x)
    let b = Box<float32>::new(2.5)
    print(b.value, b)
}
""", capsys)
    assert text == "25 5 5\n2.5 Box { value: 2.5 }\n"


def test_generic_functions_and_methods(capsys):
    """`fn name<T>(...)` as on structs: the type parameters name parameter and result types, and are
    not kept at run time."""
    rng = np.random.default_rng()
    a, b = rng.integers(-50, 50, size=2).tolist()
    x = np.float16(rng.uniform(-4, 4))
    text = out(STRUCTS + f"""fn twice<T>(v: T) -> T {{ v + v }}
fn pick<T, U>(first: T, second: U, take_first: bool) -> T {{ if take_first {{ return first }} second }}
impl<T> Box<T> {{ fn with<U>(self, w: U) -> Box<U> {{ Box<U>::new(w) }} }}
main {{
    print(twice({a}), pick({a}, {b}, false), twice({float(x)!r}))
    print(Box<int>::new({a}).with({b}).value)
}}
""", capsys)
    got = text.split()
    assert got[:2] == [str(2 * a), str(b)] and got[3] == str(b) and len(got) == 4
    assert np.float16(float(got[2])) == np.float16(x) * np.float16(2)     # printed to f16's precision
    located(TensorLogicTypeError, "fn f<T>(v: U) -> T { v }\n", 1, 12, "unknown type 'U'")


def test_struct_errors_are_located():
    located(TensorLogicTypeError, STRUCTS + "main { let p = Point { x: 1.0 } }\n", 10, 16, "needs field y")
    located(TensorLogicTypeError, STRUCTS + "main { let p = Point { x: 1.0, z: 2.0 } }\n", 10, 32,
            "unknown field of Point 'z'")
    located(TensorLogicTypeError, STRUCTS + "main { let p = Point::new(1.0, 2.0)\n print(p.norm3()) }\n", 11, 10,
            "unknown method of Point 'norm3'")
    located(TensorLogicTypeError, STRUCTS + "main { let p = Point::new(1.0) }\n", 10, 16,
            "missing y")
    located(TensorLogicTypeError, STRUCTS + "main { let p = Point::new(1.0, 2.0)\n print(p.w) }\n", 11, 10,
            "unknown field of Point 'w'")
    located(TensorLogicTypeError, "struct A { x: int, x: int }\n", 1, 20, "appears twice")


def test_destructors_run_last_bound_first(capsys):
    text = out("""
struct Res { name: string }
impl Drop for Res { fn drop(self) -> void { print("drop", self.name) } }
fn make(n: string) -> Res { let tmp = Res { name: "tmp" }
    return Res { name: n } }
main {
    let a = make("a")
    let b = Res { name: "b" }
    print("end of main")
}
""", capsys)
    assert text == "drop tmp\nend of main\ndrop b\ndrop a\n"


# ---- method calls ------------------------------------------------------------------------------
def test_method_calls_and_chains(capsys):
    assert out("let x = ones([2, 3])\nprint(x.sum(), x.reshape([3, 2]).sum(dim=0), x.add(x).mean())\n",
               capsys) == "6 [3., 3.] 2\n"
    located(TensorLogicTypeError, "let x = ones(2)\nprint(x.frobnicate())\n", 2, 9,
            "unknown method 'frobnicate'")


# ---- statements ------------------------------------------------------------------------------------
def test_learn_inside_main_and_loops():
    prog = run("""
tensor W: float16[2] learnable = [0.0, 0.0]
fn fit(target: float16[2]) {
    learn {
        d := W - target
        objective: sum(d * d),
        optimizer: sgd(lr: 0.1),
        epochs: 60
    }
}
main {
    for k in range(2) { fit([1.0, -2.0]) }
}
""")
    np.testing.assert_allclose(prog["W"].numpy().astype(float), [1.0, -2.0], atol=1e-2)


def test_scalar_types_in_signatures(capsys):
    assert out("fn f(n: int, x: float, ok: bool, s: string) -> float { if ok { return x * n } ; return 0.0 }\n"
               "fn g() -> void { print(\"g\") }\nprint(f(3, 1.5, true, \"s\"))\ng()\n", capsys) == "4.5\ng\n"
    located(TensorLogicTypeError, "fn f(n: integer) { n }\n", 1, 9, "unknown type 'integer'")


def test_a_list_where_a_tensor_type_is_declared_becomes_that_tensor(rng):
    """`let x: float16[2] = [1, 2]` and `return [0.0, 1.0]` from `-> float16[2]` (both were 'must be a
    tensor, not list'); a wrong length is still a located error."""
    a = rng.integers(-9, 9, (2, 3)).tolist()
    prog = run(f"fn z() -> float16[3] {{ return [0.5, 1.0, 2.0] }}\nlet x: float16[2, 3] = {a}\n"
               f"let i: int32[3] = {a[0]}\nlet y = x + z()\n")
    np.testing.assert_array_equal(prog["y"].numpy(), np.array(a) + [0.5, 1.0, 2.0])
    assert str(prog["i"].dtype).endswith("int32")
    located(TensorLogicTypeError, "let bad: float16[3] = [1, 2]\n", 1, 1, "has shape [2] but float16[3] is declared")


def test_break_continue_and_bare_blocks(capsys):
    text = out("""main {
    let total = 0
    for i in range(10) {
        if i == 2 { continue }
        if i > 4 { break }
        total = total + i
    }
    let k = 0
    while true { k = k + 1 ; if k == 3 { break } }
    let x = 1
    {
        let x = 2
        print("inner", x)
    }
    print(total, k, x)
}
""", capsys)
    assert text == "inner 2\n8 3 1\n"
    located(TensorLogicTypeError, "main { break }\n", 1, 8, "`break` outside a loop")


def test_compound_assignment_and_for_over_a_range(rng, capsys):
    """`x += e` (-= *= /=) on variables and fields, and `for i in a..b` as `range(a, b)` (both were syntax
    errors), against Python."""
    a, b = sorted(rng.integers(-5, 8, 2).tolist())
    c = int(rng.integers(1, 9))
    src = f"""struct Acc {{ n: int }}
main {{
    let acc = Acc {{ n: 0 }}
    let s = {c}
    for i in {a}..{b} {{
        s += i
        s *= 2
        s -= 1
        acc.n += 1
    }}
    s /= 4
    print(s, acc.n)
}}
"""
    want = c
    for i in range(a, b):
        want = (want + i) * 2 - 1
    assert out(src, capsys) == f"{want / 4:g} {b - a}\n"
    located(TensorLogicTypeError, "Y += 1\n", 1, 1, "`+=` updates a variable; 'Y' is not one")
    located(TensorLogicSyntaxError, "f(1) += 1\n", 1, 1, "`+=` updates a variable, a field or elements")
    assert out("let v = [1, 5]\nv[0] += 1\nprint(v)\n", capsys) == "[2, 5]\n"


def test_relation_with_entity_params_and_facts_in_main(capsys):
    text = out("""relation Parent(x: entity, y: entity)
main {
    Parent(alice, bob)
    Parent(bob, carol)
    Anc(x, y) <- Parent(x, y)
    Anc(x, z) <- Anc(x, y), Parent(y, z)
    Anc(alice, who)?
}
""", capsys)
    assert text == "who = bob\nwho = carol\n"


def test_colon_assign(capsys):
    assert out("x := 2\nmain { y := x + 1\n y := y * 10\n print(y) }\nprint(x)\n", capsys) == "30\n2\n"
    assert parse("x := 1").items[0].op == ":="


def test_list_literals_are_tensors_in_arithmetic(capsys):
    assert out("print([1.0, 2.0] + [1.0, 1.0], [1, 2] * 2)\nlet c = [1.0]\nc = c + [1.0]\nprint(c)\n",
               capsys) == "[2., 3.] [2., 4.]\n[2.]\n"
    located(TensorLogicTypeError, 'let x = [1, "a"] + [1, 2]\n', 1, 20, "a list of numbers is a tensor")


def test_concat_and_stack_take_lists_of_any_lengths(rng):
    """`concat([xs, [n]])` grows a list (it was one ragged literal: 'stack: expects tensors of equal shape')."""
    a = rng.integers(-9, 9, rng.integers(0, 5)).tolist()
    b = rng.integers(-9, 9, rng.integers(1, 5)).tolist()
    prog = run(f"let a = {a}\nlet t = concat([a, {b}])\nlet e = []\nfor v in {b} {{ e = concat([e, [v]]) }}\n"
               f"let s = stack([{b}, {b}], 1)\nlet h = cat([a, ones(2)])\n")
    np.testing.assert_array_equal(prog["t"].numpy(), a + b)
    np.testing.assert_array_equal(prog["e"].numpy(), b)
    np.testing.assert_array_equal(prog["s"].numpy(), np.stack([b, b], 1))
    np.testing.assert_array_equal(prog["h"].numpy(), a + [1, 1])


def test_lists_of_strings_and_structs_join_with_plus_and_concat(rng, capsys):
    """A list holding strings or structs is a sequence, not a tensor: `names = names + [w]` appends (it was
    'a list of numbers is a tensor; this one holds str'); lists of numbers still add elementwise."""
    words = ["w" + str(k) for k in rng.integers(0, 99, rng.integers(1, 6))]
    src = ("struct P { n: int }\nmain {\n    let names = []\n    let ps = [P { n: 0 }]\n"
           f"    for w in {str(words).replace(chr(39), chr(34))} {{ names = names + [w] }}\n"
           "    ps = ps + [P { n: 1 }]\n    let more = concat([names, [\"end\"]])\n"
           "    print(len(names), len(ps), ps[1].n, more[len(more) - 1], [1, 2] + [1, 1])\n"
           "    for w in names { print(w) }\n}\n")
    assert out(src, capsys) == f"{len(words)} 2 1 end [2., 3.]\n" + "".join(w + "\n" for w in words)


def test_a_float_literal_with_an_integer_tensor_computes_in_float16(rng):
    """`arange(6) * 1.0` is [0., 1., ...] as in PyTorch (it stayed an integer tensor, so `(arange(n) * 1.0) / 4`
    divided as floats but `% 5 - 2` patterns and printing read integers); `1.5 == arange(3)` compares as floats
    (the literal was once converted to the tensor's integer type: true at 1)."""
    n, c = int(rng.integers(2, 9)), float(rng.integers(1, 5))
    prog = run(f"let a = arange({n}) * {c:.1f}\nlet b = {c:.1f} + arange({n})\ntensor I: int32[3] = [1, 2, 3]\n"
               f"Y[i] = I[i] * 1.0 - 0.5\nlet k = arange({n}) * 2\nlet e = 1.5 == arange({n})\n"
               f"let f = {c:.1f} <= arange({n})\n")
    for name, want in (("a", np.arange(n) * c), ("b", c + np.arange(n)), ("Y", [0.5, 1.5, 2.5]),
                       ("e", np.zeros(n)), ("f", (c <= np.arange(n)).astype(float))):
        assert str(prog[name].dtype).endswith("float16"), name
        np.testing.assert_array_equal(prog[name].numpy(), want)
    assert not prog["k"].is_floating_point()


def test_generic_arguments_with_shapes_and_shaped_initialisers(capsys):
    prog = run("""
struct Layer<W, B> { weights: W learnable, bias: B learnable, name: string }
impl Layer<float16[?, ?], float16[?]> {
    fn new(name: string, n: int32, m: int32) -> Layer<float16[?, ?], float16[?]> {
        tensor w: float16[n, m] learnable = random_normal(0.0, 0.1)
        tensor b: float16[m] learnable = zeros()
        return Layer<float16[?, ?], float16[?]> { weights: w, bias: b, name: name }
    }
    fn forward(self, x: float16[?, ?]) -> float16[?, ?] {
        result := x @ self.weights + self.bias
    }
}
main {
    let layer = Layer<float16[?, ?], float16[?]>::new("l", 3, 2)
    tensor x: float16[4, 3] = ones()
    print(shape(layer.forward(x)), layer.name)
}
tensor g: float16[200] = random_normal(5.0, 0.5)
""")
    assert capsys.readouterr().out == "(4, 2) l\n"
    g = prog["g"].numpy().astype(np.float64)
    assert g.shape == (200,) and abs(g.mean() - 5.0) < 0.25 and 0.3 < g.std() < 0.7


def test_struct_field_types_are_checked():
    located(TensorLogicTypeError, "struct V { data: float16[3], name: string }\n"
            "main { let v = V { data: [1, 2], name: \"a\" } }\n", 2, 26, "field 'data' of V has shape [2]")
    located(TensorLogicTypeError, "struct V { data: float16[3], name: string }\n"
            "main { let v = V { data: [1, 2, 3], name: 4 } }\n", 2, 43, "field 'name' of V is a string")


def test_tensor_methods_as_in_pytorch(capsys):
    assert out("let x = ones([2, 3])\nprint(x.view([3, 2]).contiguous().shape, x.add([1.0, 2.0, 3.0]).sum(), "
               "x.numel())\n", capsys) == "(3, 2) 18 6\n"
    located(TensorLogicTypeError, "let x = ones([2, 3])\nlet y = x.view([4, 4])\n", 2, 9, "view:")


def test_every_tensor_method_and_property_of_pytorch(rng, capsys):
    """`x.size(1)`, `x.dim()`, `x.float()`, `x.T`, `x.ndim`: the tensor's own methods and properties beyond the
    built-ins' names (they were 'unknown method' at check time); misspellings stay located errors."""
    r, c = (int(v) for v in rng.integers(1, 6, 2))
    assert out(f"let x = ones([{r}, {c}])\nprint(x.size(1), x.dim(), x.ndim, x.T.shape, x.clone().sum())\n",
               capsys) == f"{c} 2 2 ({c}, {r}) {r * c}\n"
    located(TensorLogicTypeError, "let x = ones(2)\nprint(x.sizee())\n", 2, 9, "unknown method 'sizee'")


def test_a_list_of_integers_where_a_builtin_takes_indices(rng):
    """`embedding(T, [2, 0])`, `index_select(T, 0, [1])`, `cross_entropy(logits, [0, 2])`: a list literal of
    integers is an integer tensor there (it was float16: 'indices must be int64 or int32', or read as
    probabilities); floats stay probabilities."""
    table = rng.integers(-9, 9, (5, 3)).tolist()
    ids = rng.integers(0, 5, 4).tolist()
    logits = rng.integers(-3, 3, (2, 3)).astype(float).tolist()
    classes = rng.integers(0, 3, 2).tolist()
    prog = run(f"let T = {table} + zeros(5, 3)\nlet e = embedding(T, {ids})\nlet s = index_select(T, 0, {ids})\n"
               f"let c = cross_entropy({logits}, {classes})\nlet p = cross_entropy({logits}, [[1.0, 0.0, 0.0], "
               f"[0.0, 0.0, 1.0]])\n")
    np.testing.assert_array_equal(prog["e"].numpy(), np.array(table)[ids])
    np.testing.assert_array_equal(prog["s"].numpy(), np.array(table)[ids])
    z = np.array(logits)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    assert float(prog["c"].item()) == pytest.approx(-logp[[0, 1], classes].mean(), abs=1e-2)
    assert float(prog["p"].item()) == pytest.approx(-(logp[0, 0] + logp[1, 2]) / 2, abs=1e-2)


def test_the_engines_other_functions_by_their_pytorch_names(rng, capsys):
    """Every function of the engine (not only the reserved list) is callable by its PyTorch name, in
    statements and, when elementwise, in index notation; a program's own relation of such a name
    (`dist(a, b)`) stays a relation.  A comparison (a 0/1 float16 tensor) is a `where` condition."""
    x = rng.integers(-5, 6, (2, 3)).astype(float)
    prog = run(f"tensor X: float16[2, 3] = {x.tolist()}\n"
               "L[i, j] = leaky_relu(X[i, j], 0.1)\nA[i, j] = atan2(X[i, j], 2)\n"
               "W[i, j] = where(X[i, j] > 0, X[i, j], X[0, j] * 10)\n"
               "let c = cumsum(X, 1)\nlet o = outer([1, 2], [3, 4])\nlet h = one_hot([0, 2], 3)\n"
               "let p = where(X > 0, X, 0)\nlet s = [[1, 2], [3, 4]].shape\nlet v = [[1, 2], [3, 4]].view([4])\n"
               "dist(a, b)\nnear(x, y) <- dist(x, y)\n")
    x16 = x.astype(np.float16).astype(float)
    np.testing.assert_allclose(prog["L"].numpy(), np.where(x16 > 0, x16, 0.1 * x16), atol=1e-3)
    np.testing.assert_allclose(prog["A"].numpy(), np.arctan2(x16, 2), atol=2e-3)
    np.testing.assert_array_equal(prog["W"].numpy(), np.where(x16 > 0, x16, 10 * x16[0]))
    np.testing.assert_array_equal(prog["c"].numpy(), np.cumsum(x16, 1))
    np.testing.assert_array_equal(prog["o"].numpy(), [[3, 4], [6, 8]])
    np.testing.assert_array_equal(prog["h"].numpy(), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(prog["p"].numpy(), np.where(x16 > 0, x16, 0))
    assert tuple(prog["s"]) == (2, 2) and prog["v"].numpy().tolist() == [1, 2, 3, 4]
    assert prog.query("near(x, y)") == [{"x": "a", "y": "b"}]
    located(TensorLogicTypeError, "print(cumsun([1, 2], 0))\n", 1, 7, "did you mean 'cumsum'")


def test_attention_masks(rng):
    scores = rng.standard_normal((4, 4)).round(2)
    mask = (rng.random((4, 4)) > 0.4).astype(float)
    prog = run(f"let s = {scores.tolist()}\nlet m = {mask.tolist()}\nlet a = apply_mask(s, m)\n"
               "let c = causal_mask(4)\nlet p = padding_mask([1, 3], 4)\nlet b = combine_masks(c, m)\n")
    s16 = scores.astype(np.float16).astype(float)
    np.testing.assert_array_equal(prog["a"].numpy().astype(float), np.where(mask == 0, -10000.0, s16))
    np.testing.assert_array_equal(prog["c"].numpy(), np.tril(np.ones((4, 4))))
    np.testing.assert_array_equal(prog["p"].numpy(), [[1, 0, 0, 0], [1, 1, 1, 0]])
    np.testing.assert_array_equal(prog["b"].numpy(), np.tril(np.ones((4, 4))) * mask)
