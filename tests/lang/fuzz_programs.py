"""Fuzzer over the parser and the interpreter: mutated programs (loops, recursion, imports,
structs, rules, learning) are checked and run under a small step budget and time limit; the only
exceptions allowed are the typed errors of SPEC §6 (and an assertion the program makes, or a
MemoryError naming an impossible request).  Run as a script it fuzzes one batch and prints every
failure with its program (the reproducer), exiting 1 if there was one:

    python tests/lang/fuzz_programs.py SEED COUNT
"""
import contextlib
import io
import os
import random
import resource
import sys
import tempfile
import traceback
import warnings

from tensorlogic import lang
from tensorlogic.errors import TensorLogicError

# The typed errors of SPEC §6 (the language's, and the engine's under a statement's location note),
# an assertion the program makes, and a MemoryError naming an impossible request.
ALLOWED = (TensorLogicError, AssertionError, MemoryError)

LIBRARY = """fn twice(x) { return x * 2 }
struct Cell { v: float32 }
impl Cell { fn get(self) -> float32 { self.v } }
Edge(a, b)
Edge(b, c)
"""

SEEDS = [
    """import "lib.tl"
fn fib(n: int) -> int { if n < 2 { return n } ; return fib(n - 1) + fib(n - 2) }
main {
    let total = 0
    for i in range(6) {
        if i == 1 { continue }
        if i > 4 { break }
        total = total + fib(i)
    }
    let c = Cell { v: 2.0 }
    print(total, twice(c.get()), c)
}
""",
    """import "lib.tl"
import "prog.tl"
Path(x, y) <- Edge(x, y)
Path(x, z) <- Path(x, y), Edge(y, z)
Path(a, who)?
let k = 0
while k < 5 { k = k + 1 }
print(k, [1, 2] + [3, 4])
""",
    """struct P { x: float32, y: float32 }
impl P {
    fn new(x: float32, y: float32) -> P { return P { x: x, y: y } }
    fn dot(self, o: P) -> float32 { self.x * o.x + self.y * o.y }
}
main {
    let p = P::new(1.0, 2.0)
    x := f16::ones([2, 3])
    tensor t: float16[2, 3] = [1, 2, 3, 4, 5, 6]
    print(p.dot(p), x.sum(), t.reshape([3, 2]).mean(dim=0), positional_encoding(2, 4))
    { let p = 3 ; print(p) }
}
""",
    """tensor W: float16[2] learnable = [0.0, 0.0]
tensor X: float16[3, 2] = [1, 0, 0, 1, 1, 1]
tensor Y: float16[3] = [1, 2, 3]
main {
    learn {
        e := X @ W - Y
        objective: mean(e * e),
        optimizer: sgd(lr: 0.1),
        epochs: 3
    }
    print(W, rope(ones([2, 1, 4])), slice_last(X, 0))
}
""",
    """domain N = 0..5
relation E(a: N, b: N)
E(0, 1)
E(1, 2)
E(2, 3)
R(x, y) <- E(x, y)
R(x, z) <- R(x, y), E(y, z)
Far(x, y) <- R(x, y), not E(x, y)
tensor Z: float16[5, 2] = ones(5, 2)
A[n, d] = E(n, m) Z[m, d]
fn loop(n) { let s = 0 ; while s < n { s = s + 1 } ; return s }
print(loop(3), A, transe_score([1.0, 0.0], [0.0, 1.0], [1.0, 1.0]))
Far(0, x)?
""",
]

TOKENS = ["while true", "for", "in", "range(", "break", "continue", "return", "fn", "let", "if",
          "else", "struct", "impl", "self", ".", "::", ":=", "{", "}", "(", ")", "[", "]", ",", ";",
          "\n", "x", "i", "fib(", "loop(", "twice(", "import", '"lib.tl"', '"prog.tl"', '"/etc/passwd"',
          "0", "1", "-1", "2.5", "1000", "10**9", "+", "-", "*", "/", "%", "==", "<", ">", "=", "<-",
          "not", "?", "tensor", "learn", "epochs: 1000000", "true", "false", "print(", "panic(",
          "main", "E(", "Path(", "ones(", "zeros(", "load", '"lib.tsv"']


def mutate(rng, src):
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["delete", "insert", "replace", "duplicate_line", "swap_lines", "drop_line"])
        lines = src.split("\n")
        if kind == "delete" and src:
            a = rng.randrange(len(src))
            src = src[:a] + src[a + rng.randint(1, 8):]
        elif kind == "insert":
            a = rng.randint(0, len(src))
            src = src[:a] + rng.choice(TOKENS) + " " + src[a:]
        elif kind == "replace" and src:
            a = rng.randrange(len(src))
            src = src[:a] + rng.choice(TOKENS) + src[a + 1:]
        elif kind == "duplicate_line":
            k = rng.randrange(len(lines))
            lines.insert(k, lines[k])
            src = "\n".join(lines)
        elif kind == "swap_lines" and len(lines) > 1:
            a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[a], lines[b] = lines[b], lines[a]
            src = "\n".join(lines)
        elif kind == "drop_line":
            del lines[rng.randrange(len(lines))]
            src = "\n".join(lines)
    return src


def run_one(src, path):
    """None when the program ran or failed with an allowed error, else the unexpected exception."""
    with open(path, "w") as f:
        f.write(src)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lang.run(src, path, max_steps=300, time_limit=1.0)
    except ALLOWED:
        return None
    except Exception as err:        # the fuzzer's finding: anything else is a bug
        return err
    return None


def fuzz(seed, count):
    rng = random.Random(seed)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "lib.tl"), "w") as f:
            f.write(LIBRARY)
        with open(os.path.join(tmp, "lib.tsv"), "w") as f:
            f.write("a\tb\nb\tc\n")
        path = os.path.join(tmp, "prog.tl")
        for _ in range(count):
            src = mutate(rng, rng.choice(SEEDS))
            err = run_one(src, path)
            if err is not None:
                failures.append((src, err))
    return failures


def main(argv):
    seed, count = int(argv[1]), int(argv[2])
    # A mutated size may ask for more memory than the machine has: fail it fast, never swap
    # (where the platform lets a process lower its address-space limit).
    try:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    except (ValueError, OSError):
        pass
    failures = fuzz(seed, count)
    for src, err in failures:
        where = "".join(traceback.format_exception(err)[-6:])
        print(f"=== {type(err).__name__}: {err}\n{src}\n--- raised at\n{where}")
    print(f"{count} programs, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
