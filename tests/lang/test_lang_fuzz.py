"""Parser and checker fuzzing: random token streams, random text and mutated valid programs may only
ever raise the two typed errors (never another exception, never a hang); and the interpreter:
mutated programs run in subprocesses (fuzz_programs.py)."""
import os
import pathlib
import random

from hypothesis import HealthCheck, given, settings, strategies as st

from fuzz_batches import finish_fuzz_batch, start_fuzz_batch
from tensorlogic.lang import TensorLogicSyntaxError, TensorLogicTypeError
from tensorlogic.lang.check.checker import check

SEEDS = [
    """domain Person = {Alice, Bob, Charlie}
relation Parent(x: Person, y: Person)
Parent(Alice, Bob)
Parent(Bob, Charlie)
Ancestor(x, y) <- Parent(x, y)
Ancestor(x, z) <- Ancestor(x, y), Parent(y, z)
Sibling(x, y) <- Parent(p, x), Parent(p, y), x != y
Ancestor(Alice, x)?
Ancestor(Alice, Charlie)?
""",
    """tensor W: float16[4, 8] learnable = randn(4, 8) * 0.1
tensor X: float16[8] = [1, 0, 1, 0, 1, 0, 1, 0]
tensor B: float16[4] = zeros(4)
Y[i] = relu(W[i, j] X[j] + B[i])
Shift[i] = X[i + 1]
Y?
tensor T: float16[4] = [1, 1, 0, 0]
learn {
    Loss = (Y[i] - T[i]) ^ 2
    objective: Loss,
    optimizer: adam(lr: 0.01, betas: (0.9, 0.999)),
    epochs: 20,
    scheduler: cosine(t_max: 20)
}
""",
    """tensor Q: float16[5, 16] = randn(5, 16)
tensor K: float16[5, 16] = randn(5, 16)
tensor V: float16[5, 16] = randn(5, 16)
Comp[p, p'.] = softmax(Q[p, d] K[p', d] / sqrt(16))
Attn[p, v] = Comp[p, p'] V[p', v]
Stream[p, d.] = lnorm(Attn[p, d] + Q[p, d])
tensor F: float16[8, 8] = randn(8, 8)
Pooled[x / 2, y / 2] max= F[x, y]
Avg[x / 2] avg= F[x, y]
""",
    """fn mlp(x: float16[?, 8]) -> float16[?, 4] { relu(x @ transpose(W, 0, 1)) }
tensor W: float16[4, 8] = ones(4, 8)
let s = sum(W) ; if s > 2 { print("big", s) } else { print("small") }
let c = 0
for i in range(3) { print(i) }   while c < 10 { c = c + 1 }
main { let z = mlp(ones(2, 8)); print(shape(z)) }
test shapes { assert(shape(W)[0] == 4, "rows") }
""",
    """domain Node = 0..6
relation Neig(a: Node, b: Node)
Neig(0, 1)
Neig(1, 2)
tensor Z: float16[6, 3] = randn(6, 3)
Agg[n, d] = Neig(n, n') Z[n', d]
H[n, d] = relu(Agg[n, d] + Z[n, d])
Reach(x, y) <- Neig(x, y)
Reach(x, z) <- Reach(x, y), Neig(y, z)
Far(x, y) <- Reach(x, y), not Neig(x, y)
Reach(0, x), not Neig(0, x)?
""",
]

TOKENS = ["domain", "entity", "relation", "tensor", "learnable", "frozen", "fn", "let", "if", "else",
          "for", "in", "while", "return", "main", "test", "import", "learn", "not", "true", "false",
          "x", "y", "i", "j", "W", "X", "Parent", "Alice", "p'", "relu", "softmax", "sig", "print",
          "0", "1", "2.5", "128", '"s"', '"other.tl"', "float16", "int32", "?",
          "(", ")", "[", "]", "{", "}", ",", ";", ":", ".", "..", "=", "==", "!=", "<", "<=", ">",
          "<-", "\u2190", "->", "+", "-", "*", "/", "%", "^", "**", "@", "&&", "||", "!",
          "max=", "avg=", "min=", "\n", "\n", "\n", "//c\n", "/*c*/", "_"]

ALLOWED = (TensorLogicSyntaxError, TensorLogicTypeError)

FUZZ = settings(max_examples=1200, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def only_typed_errors(src):
    try:
        check(src, "fuzz.tl")
    except ALLOWED as e:
        # Located: a line, a column and the source line with a caret.
        assert e.lineno is not None and e.offset is not None and "^" in str(e.args[0])


def test_seeds_are_valid():
    for s in SEEDS:
        check(s, "seed.tl")


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60), st.randoms(use_true_random=False))
def test_token_soup(tokens, rnd):
    only_typed_errors("".join(t + rnd.choice([" ", "", "  "]) for t in tokens))


@settings(max_examples=600, deadline=2000, derandomize=True)
@given(st.text(max_size=200))
def test_random_text(text):
    only_typed_errors(text)


@st.composite
def mutated(draw):
    src = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate_line", "swap_lines",
                                     "drop_line"]))
        lines = src.split("\n")
        if kind == "delete" and src:
            a = draw(st.integers(0, len(src) - 1))
            b = draw(st.integers(a, min(len(src), a + 8)))
            src = src[:a] + src[b:]
        elif kind == "insert":
            a = draw(st.integers(0, len(src)))
            src = src[:a] + draw(st.sampled_from(TOKENS)) + src[a:]
        elif kind == "replace" and src:
            a = draw(st.integers(0, len(src) - 1))
            src = src[:a] + draw(st.sampled_from(TOKENS)) + src[a + 1:]
        elif kind == "duplicate_line":
            k = draw(st.integers(0, len(lines) - 1))
            lines.insert(k, lines[k])
            src = "\n".join(lines)
        elif kind == "swap_lines" and len(lines) > 1:
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            src = "\n".join(lines)
        elif kind == "drop_line":
            del lines[draw(st.integers(0, len(lines) - 1))]
            src = "\n".join(lines)
    return src


@FUZZ
@given(mutated())
def test_mutated_programs(src):
    only_typed_errors(src)


def test_deep_and_long_inputs_do_not_crash():
    only_typed_errors("let x = " + "(" * 5000 + "1" + ")" * 5000)
    only_typed_errors("let x = " + " + ".join(["1"] * 20000))
    only_typed_errors("let x = " + "-" * 20000 + "1")
    only_typed_errors("let x = 2" + " ^ 2" * 20000)
    only_typed_errors("let x = 1\n" * 5000)
    only_typed_errors("if true { " * 100 + "}" * 100)
    only_typed_errors("P(a)\n" + "".join(f"R{k}(x) <- R{k + 1}(x)\n" for k in range(2000)) + "R2000(x) <- P(x)\n")


def test_example_programs_check():
    root = pathlib.Path(__file__).resolve().parents[2] / "examples"
    for path in sorted(root.glob("*.tl")):
        check(path.read_text(), str(path))


# ---- parser and interpreter, batches in subprocesses -------------------------------------------
# Programs per run (issue 10: at least 5,000 in CI); TL_FUZZ_PROGRAMS raises it.
PROGRAMS = int(os.environ.get("TL_FUZZ_PROGRAMS", "5000"))
BATCHES = 2


def test_mutated_programs_run_in_subprocesses():
    """Mutated programs with loops, recursion, imports, structs and learning, run under a step
    budget: a crash, a hang (the batch's timeout) or an untyped exception fails with the program
    that caused it (fuzz_programs.py prints it)."""
    script = pathlib.Path(__file__).with_name("fuzz_programs.py")
    seed = random.SystemRandom().randrange(1 << 30)
    per = -(-PROGRAMS // BATCHES)
    procs = [start_fuzz_batch(script, seed + k, per) for k in range(BATCHES)]
    for k, p in enumerate(procs):
        out = finish_fuzz_batch(p, script, seed + k, per, timeout=60 + per // 10)
