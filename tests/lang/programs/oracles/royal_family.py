# Oracle for royal_family.tl: the relations computed by Python set comprehensions and
# breadth-first search, printed in the domain's declaration order.
people = "George Elizabeth Philip Charles Anne Andrew Edward William Harry Zara Peter Louise James".split()
parent = {("George", "Elizabeth")} | \
    {(p, c) for p in ("Elizabeth", "Philip") for c in ("Charles", "Anne", "Andrew", "Edward")} | \
    {("Charles", "William"), ("Charles", "Harry"), ("Anne", "Peter"), ("Anne", "Zara"),
     ("Edward", "Louise"), ("Edward", "James")}
male = set("George Philip Charles Andrew Edward William Harry Peter James".split())
def desc(x):
    seen, todo = set(), [x]
    while todo:
        n = todo.pop()
        for a, b in parent:
            if a == n and b not in seen:
                seen.add(b); todo.append(b)
    return seen
anc = {(x, y) for x in people for y in desc(x)}
sib = {(x, y) for (p, x) in parent for (q, y) in parent if p == q and x != y}
order = lambda xs: [p for p in people if p in xs]
out = []
out += [f"x = {x}" for x in order({a for a, b in anc if b == "Zara"})]
out += [f"x = {x}" for x in order({a for a, b in sib if b == "Anne" and a in male})]
cousins = {y for (a, x) in parent for (b, y) in parent if x == "William" and (a, b) in sib}
out += [f"y = {y}" for y in order(cousins)]
out += [f"x = {x}" for x in order({x for _, x in anc if x not in male})]
childless = {x for _, x in anc if not any(a == x for a, _ in parent)}
out.append("true" if "Andrew" in childless else "false")
out.append("true" if "Anne" in childless else "false")
out.append(f"n = {sum(1 for a, _ in parent if a == 'Elizabeth')}")
out.append(f"n = {len(desc('Elizabeth'))}")
gen, frontier = {"George": 0}, ["George"]
while frontier:
    nxt = []
    for p in frontier:
        for a, c in parent:
            if a == p and c not in gen:
                gen[c] = gen[p] + 1; nxt.append(c)
    frontier = nxt
out += [f"x = {x}" for x in order({x for x, g in gen.items() if g == 3})]
out.append(f"g = {gen['Zara']}")
print("\n".join(out))
