# Oracle for tic_tac_toe.tl: lines, open cells, wins and forks found by brute force in Python.
lines = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]
mark = {0: "x", 1: "o", 2: "x", 3: "x", 4: "x", 6: "o", 7: "o"}
players = ["x", "o"]
open_ = sorted({c for l in lines for c in l if c not in mark})
won = [p for p in players if any(all(mark.get(c) == p for c in l) for l in lines)]
def wins(p):
    return sorted({c for l in lines for c in l if c in open_ and
                   all(mark.get(d) == p for d in l if d != c)})
out = [f"c = {c}" for c in open_]
out += [f"p = {p}" for p in won] or ["false"]
out += [f"c = {c}" for c in wins("x")] or ["false"]
out += [f"c = {c}" for c in wins("o")] or ["false"]
out += [f"p = {p}, n = {len(wins(p))}" for p in players if wins(p)]
out += [f"p = {p}" for p in players if len(wins(p)) >= 2] or ["false"]
for r in range(3):
    out.append("".join(mark.get(3 * r + k, ".") for k in range(3)))
print("\n".join(out))
