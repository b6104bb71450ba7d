"""Every error class of LANGUAGE.md §8 names file, line and column and shows the line with a caret."""
import pytest

from tensorlogic.lang import TensorLogicSyntaxError, TensorLogicTypeError
from tensorlogic.lang.check.checker import check


def error_at(src, cls, line, col, fragment, filename="prog.tl"):
    with pytest.raises(cls) as info:
        check(src, filename)
    err = info.value
    assert (err.lineno, err.offset) == (line, col), str(err)
    assert fragment in err.message, err.message
    text = str(err.args[0])
    head, shown, caret = text.splitlines()[:3]
    assert head.startswith(f"{filename}:{line}:{col}: ")
    assert shown.strip() == src.splitlines()[line - 1].strip()
    # The caret sits under the reported column.
    assert caret.index("^") - 4 == col - 1 - (len(src.splitlines()[line - 1]) - len(shown[4:]))
    assert err.filename == filename
    return err


# ---- syntax -----------------------------------------------------------------------------------
@pytest.mark.parametrize("src, line, col, fragment", [
    ("Y[i] = (X[i] +\n", 1, 15, "unexpected end of input"),
    ("let a = 1\nlet b = = 2\n", 2, 9, "unexpected '='"),
    ("Y[i] = X[i] $ 2\n", 1, 13, "unexpected character '$'"),
    ('print("abc\n', 1, 7, "unterminated string"),
    ("relation R(x y)\n", 1, 14, "unexpected 'y'"),
    ("domain D = {a, b\nlet x = 1\n", 2, 1, "unexpected 'let'"),
    ("fn f(a, b { a }\n", 1, 11, "unexpected '{'"),
    ("Y[i] + 1 = X[i]\n", 1, 1, "left side of `=`"),
    ("f(x: 1, 2)\n", 1, 9, "positional argument after a keyword"),
    ("tensor X: float16[2.5] = 1\n", 1, 19, "dimension must be an integer"),
    ("let x = " + "(" * 40 + "1" + ")" * 40 + "\n", 1, 41, "nested deeper"),
    ("\n\n  A(x) <- \n", 3, 10, "unexpected end of input"),
    ("if x { y } else\n", 1, 16, "unexpected end of input"),
    ("fn main() {\n    print(1)\n}\n", 1, 4, "(a reserved word: the program's entry block is written `main { ... }`)"),
    ("let in = 3\n", 1, 5, "unexpected 'in' (a reserved word); expected a name"),
    # habits of Prolog and clingo, and an unclosed comment: what the language writes instead
    ("edge(a, b).\n", 1, 11, "statements end at a newline or ';'"),
    ("E(a, b)\nP(x, y) <- E(x, y).  // done\n", 2, 19, "statements end at a newline or ';'"),
    ("E(a, b)\npath(X, Y) :- E(X, Y)\n", 2, 12, "a rule is written `Head <- Body`"),
    ("E(a, b)\n?- E(X, Y)\n", 2, 1, "a query is the atom followed by `?`"),
    ("let a = 1\n/* open\nlet b = 2\n", 2, 1, "unterminated comment"),
])
def test_syntax_errors(src, line, col, fragment):
    err = error_at(src, TensorLogicSyntaxError, line, col, fragment)
    assert isinstance(err, SyntaxError)


# The checker's type errors, by kind: (source, line, column, a fragment of the message).
TYPE_ERRORS = [
    # ---- unknown names ----------------------------------------------------------------------------
    ("Parent(A, B)\nAnc(x, y) <- Parnt(x, y)\n", 2, 14, "unknown relation 'Parnt'; did you mean 'Parent'"),
    ("tensor X: float16[3] = [1, 2, 3]\nY[i] = X[i] + Z[i]\n", 2, 15, "unknown name 'Z'"),
    ("let a = 1\nprint(b + a)\n", 2, 7, "unknown name 'b'"),
    ("let y = foo(1)\n", 1, 9, "unknown function or relation 'foo'"),
    # an index named like a domain's member is that constant, so it has no value as a number
    ("domain Letter = {a, i}\ntensor D: float16[3, 2]\nD[i, 0] = i\n", 3, 11,
     "'i' is a constant (domain Letter holds it), so it is no index variable"),
    ("tensor D: float16[3]\nD[i] = 1\nD[i] = 2 * i\nEdge(i, j)\n", 3, 12, "a fact of 'Edge' holds it (line 4)"),
    ("tensor D: float16[3]\nQ[k] = D[k]\nS = D[k] + Q[k]\nD[0:2] = 1\n", 4, 3,
     "a slice on the left side sets elements"),
    ("relation R(x: Persn)\n", 1, 12, "unknown domain 'Persn'"),
    ("prnt(\"hi\")\n", 1, 1, "unknown function 'prnt'; did you mean 'print'"),
    ("let k = 1\nif k > 0 {\n  z = 3\n}\n", 3, 3, "unknown variable 'z'"),
    ("import \"no_such_file.tl\"\n", 1, 1, "cannot import 'no_such_file.tl'"),
    ("tensor W: float16[3] learnable = zeros(3)\nL = W[i] W[i]\nlearn {\n  objectiv: L\n}\n", 4, 3,
     "unknown learn setting 'objectiv'; did you mean 'objective'"),
    ("tensor W: float16[3] learnable = zeros(3)\nL = W[i] W[i]\nlearn {\n  objective: L,\n"
     "  optimizer: adamm(lr: 0.1)\n}\n", 5, 14, "unknown optimizer 'adamm'"),
    ("tensor W: float16[3] learnable = zeros(3)\nL = W[i] W[i]\nlearn {\n  objective: L,\n"
     "  optimizer: adam(lr: 0.1, beta: 3)\n}\n", 5, 28, "unknown argument of Adam 'beta'; did you mean 'betas'"),
    ("tensor X: float16[3] = zeros(3)\ntensor t: complex64 = 1\n", 2, 11, "unknown type 'complex64'"),
    # ---- shape and index mismatches ---------------------------------------------------------------
    ("tensor X: float16[3] = [1, 2]\n", 1, 24, "declared float16[3] but its value has shape [2]"),
    ("tensor X: float16[2, 3] = zeros(3, 2)\n", 1, 27, "declared float16[2, 3] but its value has shape [3, 2]"),
    ("tensor X: float16[2, 2] = [[1, 2], [3]]\n", 1, 36, "ragged list"),
    ("tensor W: float16[2, 3] = zeros(2, 3)\ntensor X: float16[4] = zeros(4)\nY[i] = W[i, j] X[j]\n",
     3, 18, "index 'j' has size 4 in X[j] but size 3 in W[i, j]"),
    ("tensor Y: float16[3]\ntensor X: float16[4] = zeros(4)\nY[i] = X[i]\n", 3, 3,
     "index 'i' has size 3 in Y[i] but size 4 in X[i]"),
    ("tensor X: float16[3] = zeros(3)\nY[i, j] = X[i]\n", 2, 6, "the size of index 'j' is unknown"),
    ("domain P = {a, b}\ntensor S: float16[P, P] = zeros(2, 2)\nR(x, y) <- S[x, y] > 0.5, x != y\n", 3, 12,
     "a comparison in a rule's body compares variables, constants and integer arithmetic, not tensor "
     "values: compare in an equation"),
    ("E(a, b)\nC(count(x, y)) <- E(x, y)\n", 2, 3, "count takes one argument, and aggregates over the "
     "distinct bindings of all the body's variables"),
    # a recurrence shifted on the left: t takes the 5 positions landing in H, which U lacks
    ("tensor U: float16[4] = zeros(4)\ntensor H: float16[6]\nH[t + 1] = tanh(H[t] + U[t])\n", 3, 26,
     "index 't' has size 4 in U[t] but size 6 in H[t]; 't' is shifted on the left side, so it takes the 5 "
     "positions that land inside the left side's tensor: each tensor it indexes needs as many"),
    ("domain P = {a, b}\nrelation R(x: P)\ntensor X: float16[3] = zeros(3)\nY[x] = R(x) X[x]\n",
     4, 15, "index 'x' has size 3 in X[x] but size 2 in R(x)"),
    ("tensor W: float16[2, 3] = zeros(2, 3)\nY[i] = W[i, j, k]\n", 2, 8, "'W' has 2 axes but 3 indices are given"),
    ("tensor X: float16[3] = zeros(3)\nY[i] = X(i)\n", 2, 8, "numeric tensor, not a function: index it with [ ], "
     "like X[i] (to multiply it by what follows, write X[i] * (...))"),
    ("tensor W: float16 = 2\ntensor X: float16[3] = zeros(3)\nY[i] = W (X[i] - 1)\n", 3, 8,
     "'W' is a scalar tensor, not a function: to multiply it by what follows, write W * (...)"),
    ("tensor X: float16[3] = zeros(3)\nY[i] = softmax(X[i.])\n", 2, 18, "belongs on the left side"),
    ("tensor X: float16[3, 3] = zeros(3, 3)\nY[i., j.] = X[i, j]\n", 2, 7, "only one axis can be marked"),
    ("tensor X: float16[3] = zeros(3)\nY[i] = X[i / 2.5]\n", 2, 14, "an index must be an integer"),
    ("tensor X: float16[3] = zeros(3)\nY[i] = X[i > 2]\n", 2, 10, "index variables"),
    ("tensor X: float16[3] = zeros(3)\nY[i] = X[relu(i)]\n", 2, 15, "unknown name 'i'"),
    ("tensor X: float16[3] = zeros(3)\nY[i] = X[i]\nZ[i, j] = Y[i] + Y[j]\nY[k, l] = X[k]\n", 4, 1,
     "'Y' has 1 index at line 2 but 2 here"),
    ("domain P = {a, b}\nrelation R(x: P)\ntensor X: float16[3] = zeros(3)\nY[i] = X[a]\n", 4, 10,
     "axis 0 of 'X' is not indexed by a domain"),
    ("tensor X: float16[3] = zeros(3)\nY[i] = X[X]\n", 2, 10, "cannot be used as an index variable"),
    ("domain Node = {a, b, c, d}\ntensor X: float16[Node, 2] = zeros(4, 2)\nZ[n, d] = X[n, d]\n", 3, 6,
     "'d' is a constant of domain Node: a name a domain or a fact holds is a constant, not an index variable"),
    # ---- arity ------------------------------------------------------------------------------------
    ("Parent(A, B)\nAnc(x) <- Parent(x, y, z)\n", 2, 11, "relation 'Parent' takes 2 arguments (line 1), but 3 are given"),
    ("Parent(A, B)\nParent(A, B, C)\n", 2, 1, "takes 2 arguments"),
    ("relation R(x, y)\nR(a)\n", 2, 1, "relation 'R' takes 2 arguments"),
    ("P(a)\nQ(x) <- P(x)\nQ(x, y) <- P(x), P(y)\n", 3, 1, "relation 'Q' takes 1 argument (line 2), but 2 are given"),
    ("fn f(a, b) { a + b }\nlet z = f(1)\n", 2, 9, "'f' takes 2 arguments; missing b"),
    ("fn f(a) { a }\nlet z = f(1, 2)\n", 2, 9, "'f' takes 1 argument but 2 are given"),
    ("let z = relu(1, 2)\n", 1, 9, "'relu' takes 1 argument but 2 are given"),
    ("fn f(a) { a }\nlet z = f(b: 1)\n", 2, 11, "'f' has no parameter 'b'"),
    # ---- negation and stratification --------------------------------------------------------------
    ("P(a)\nQ(x) <- P(x), not R(x)\nR(x) <- Q(x)\n", 2, 15, "negation through recursion cannot be stratified"),
    ("P(a)\nWin(x) <- P(x), not Win(x)\n", 2, 17, "'Win' depends on 'not Win'"),
    ("E(a, b)\nA(x) <- E(x, y), not C(y)\nB(x) <- A(x)\nC(x) <- B(x)\n", 2, 18, "(A -> not C -> B -> A)"),
    # ---- other checks -----------------------------------------------------------------------------
    ("domain Person = {Alice, Bob}\nrelation Parent(x: Person, y: Person)\nParent(Alice, Eve)\n",
     3, 15, "'Eve' is not in domain Person"),
    ("domain P = {a}\ndomain C = {b}\nrelation R(x: P)\nrelation S(x: C)\nT(x) <- R(x), S(x)\n",
     5, 17, "'x' ranges over P (line 3) and over C (line 4)"),
    ("domain D = {a, a}\n", 1, 16, "'a' appears twice in domain D"),
    ("tensor X: float16[3] = zeros(3)\ntensor X: float16[3] = zeros(3)\n", 2, 8, "already declared as a tensor at line 1"),
    ("Parent(A, B)\nfn f() { Parent(B, C, D) }\n", 2, 10, "relation 'Parent' takes 2 arguments"),
    ("fn f(a) { A(x) <- B(x) }\n", 1, 11, "write it at the top level or directly inside `main`"),
    ("return 1\n", 1, 1, "`return` outside a function"),
    ("tensor X: float16[3] = zeros(3)\nY[i] = X[i]\nlet k = 1\nif k > 0 { Y = X }\n", 4, 12,
     "'Y' is defined by an equation at line 2"),
    ("tensor X: float16[3] = zeros(3)\nX[i] = 1\n", 2, 1, "is given a value at line 1"),
    ("tensor W: float16[3] learnable\n", 1, 1, "needs an initial value"),
    ("tensor W: int32[3] learnable = [1, 2, 3]\n", 1, 1, "only float16 tensors can be learnable"),
    ("tensor X: float16[3] = zeros(3)\nL = X[i] X[i]\nlearn {\n objective: L\n}\n", 3, 1,
     "needs a learnable tensor"),
    ("tensor W: float16[3] learnable = zeros(3)\nL = W[i] W[i]\nlearn {\n epochs: 3\n}\n", 3, 1,
     "needs `objective: <loss>`"),
    ("A(x) <- B(x)\nB(a)\nA(_)?\nH(_) <- B(a)\n", 4, 3, "`_` cannot appear in a rule's head"),
    ("P(a)\nQ(x) <- P(x), relu(x)\n", 2, 15, "'relu' is a function"),
    ("relation R(a, n: float)\n", 1, 15, "holds names or integers, not float values"),
    ("relation R(a, n: int)\nR(x, y)\n", 1, 15, "argument 1 of 'R' is declared int, but 'y' is not an integer"),
    ("Edge(a, b)\nlet Edge = 3\n", 1, 1, "'Edge' is a variable (set at line 2), not a function or a relation"),
    # a relation named like a tensor an earlier equation defines (it merged with it, silently)
    ("tensor T: float16[2] = [1, 30]\nHot[c] = T[c] > 25\nHot(c) <- Hot[c]\n", 3, 1,
     "'Hot' is a tensor (line 2), not a relation: give the relation another name"),
    ("tensor W: float16[2] = [1, 2]\nP(x) <- W(x)\n", 2, 9, "'W' is a tensor, not a relation: a rule's body "
     "reads it with brackets, like W[x]"),
    # a name some fact holds is a constant: it has no number (d is a node of Edge here)
    ("Edge(a, d)\nFar(a, 0)\nFar(y, max(d + 1)) <- Far(x, d), Edge(x, y)\n", 3, 12,
     "'d' is a constant (a fact or a domain holds it), not a number"),
    ("Edge(a, d)\nN(a, 0)\nN(y, -d) <- N(x, k), Edge(x, y)\n", 3, 7, "not a number"),
]


@pytest.mark.parametrize("src, line, col, fragment", TYPE_ERRORS)
def test_type_errors(src, line, col, fragment):
    error_at(src, TensorLogicTypeError, line, col, fragment)


def test_stratified_negation_is_accepted():
    check("E(a, b)\nR(x, y) <- E(x, y)\nR(x, z) <- R(x, y), E(y, z)\nN(x, y) <- E(x, _), E(_, y), not R(x, y)\n")


def test_error_in_imported_file_names_that_file(tmp_path):
    (tmp_path / "lib.tl").write_text("P(a)\nQ(x) <- P(x, y)\n")
    main = tmp_path / "main.tl"
    main.write_text('import "lib.tl"\nQ(x)?\n')
    with pytest.raises(TensorLogicTypeError) as info:
        check(main.read_text(), str(main))
    err = info.value
    assert err.filename == str(tmp_path / "lib.tl") and (err.lineno, err.offset) == (2, 9)
    assert "Q(x) <- P(x, y)" in str(err)


def test_syntax_error_in_imported_file(tmp_path):
    (tmp_path / "lib.tl").write_text("P(a\n")
    main = tmp_path / "main.tl"
    main.write_text('import "lib.tl"\n')
    with pytest.raises(TensorLogicSyntaxError) as info:
        check(main.read_text(), str(main))
    assert info.value.filename.endswith("lib.tl") and info.value.lineno == 1


def test_errors_are_builtin_subclasses():
    assert issubclass(TensorLogicSyntaxError, SyntaxError)
    assert issubclass(TensorLogicTypeError, TypeError)


def test_index_summed_in_a_product_and_kept_outside_it():
    # Outside an equation there is no left side to say which indices survive (in an equation,
    # `S = A[j] B[j] + C[j]` sums j over the whole right side).
    src = ("tensor A: float16[3] = zeros(3)\ntensor B: float16[3] = zeros(3)\n"
           "tensor C: float16[3] = zeros(3)\nprint(A[j] B[j] + C[j])\n")
    error_at(src, TensorLogicTypeError, 4, 21, "index 'j' is summed inside a product but also used outside it")
