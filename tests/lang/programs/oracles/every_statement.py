# Oracle for every_statement.tl, computed by hand in Python: the rules over the three students,
# the equation Value = Grade x Weights, the loops' counters, 20 SGD steps on (b - 1.5)^2
# (b <- b - 0.25 * 2 (b - 1.5) halves the error: 1.5 (1 - 2^-20)), and the unit square's area.
from oracle_format import show, rnd
students = ["ann", "bob", "cid"]
grade = {"ann": "high", "bob": "low", "cid": "mid"}
score = {"ann": 90, "bob": 72, "cid": 85}
weights = {"low": 0.5, "mid": 1.0, "high": 2.0}
good = [s for s in students if grade[s] == "high" or grade[s] == "mid"]
value = [weights[grade[s]] for s in students]
out = [f"s = {s}" for s in good]
out += [f"n = {score['ann']}"] if score["ann"] >= 80 else ["false"]
out.append("false")
out.append("Value = " + show(value).replace("\n", "\n        "))
out.append(f"Value[s] Value[s] * Scale = {show(sum(v * v for v in value) * 2)}")
out += [f"a = {i}, b = {i + 1}" for i in (0, 2, 3) if i < 3]
bumps = sum(1 for i in range(4) if i != 1)
out.append(f"bumped {bumps} times")
out.append("inner k 100")
out.append(f"k 3 total {3 + 2 * 1.5:g} best {show(max(value))} mean {show(rnd(sum(value) / 3, 100))}")
b = 0.0
for _ in range(20):
    b -= 0.25 * 2 * (b - 1.5)
out.append(f"bias ~ {show(rnd(b, 100))} ints [2, 4, 6]")
out.append("unit square: 1")
print("\n".join(out))
