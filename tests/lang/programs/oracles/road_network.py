# Oracle for road_network.tl: Bellman-Ford distances, breadth-first hops and reachability in
# plain Python, printed in the domain's order.
cities = "Amsterdam Berlin Cologne Dresden Essen Frankfurt Geneva".split()
roads = [("Amsterdam", "Cologne", 260), ("Amsterdam", "Essen", 200), ("Essen", "Cologne", 70),
         ("Cologne", "Frankfurt", 190), ("Essen", "Berlin", 530), ("Frankfurt", "Berlin", 550),
         ("Berlin", "Dresden", 190), ("Frankfurt", "Dresden", 460), ("Geneva", "Frankfurt", 580)]
def reach(x):
    seen, todo = set(), [x]
    while todo:
        n = todo.pop()
        for a, b, _ in roads:
            if a == n and b not in seen:
                seen.add(b); todo.append(b)
    return seen
def relax(start, cost):
    d = {start: 0}
    for _ in cities:
        for a, b, w in roads:
            if a in d and d[a] + cost(w) < d.get(b, 10 ** 9):
                d[b] = d[a] + cost(w)
    return d
dist, hops = relax("Amsterdam", lambda w: w), relax("Amsterdam", lambda w: 1)
o = lambda xs: [c for c in cities if c in xs]
out = [f"y = {y}" for y in o(reach("Amsterdam"))]
out += [f"y = {y}" for y in o(reach("Dresden"))] or ["false"]
out.append(f"d = {dist['Dresden']}")
out += [f"c = {c}, d = {dist[c]}" for c in o(dist) if dist[c] > 400]
tree = {(a, b) for a, b, w in roads if a in dist and b in dist and dist[a] + w == dist[b]}
out += [f"x = {a}, y = {b}" for a in cities for b in cities if (a, b) in tree]
out += [f"c = {c}, h = {hops[c]}" for c in o(hops) if hops[c] >= 2]
deg = {c: sum(1 for a, _, _ in roads if a == c) for c in cities}
out += [f"x = {c}, n = {deg[c]}" for c in cities if deg[c] >= 2]
out.append(f"t = {sum(w for a, _, w in roads if a == 'Frankfurt')}")
out += [f"x = {c}, m = {max(w for a, _, w in roads if a == c)}" for c in cities if deg[c]]
unreachable = [c for c in cities if deg[c] and c not in reach("Amsterdam") and c != "Amsterdam"]
out += [f"x = {c}" for c in unreachable] or ["false"]
print("\n".join(out))
