# Oracle for all_pairs_paths.tl: Floyd-Warshall in Python over the roads.
import math

from oracle_format import show

cities = "Oslo Bergen Trondheim Stavanger Tromso Longyearbyen".split()
roads = {("Oslo", "Bergen"): 460, ("Oslo", "Trondheim"): 500, ("Bergen", "Stavanger"): 210,
         ("Trondheim", "Tromso"): 1150}
n = len(cities)
d = [[0 if i == j else math.inf for j in range(n)] for i in range(n)]
for (a, b), km in roads.items():
    i, j = cities.index(a), cities.index(b)
    d[i][j] = d[j][i] = km
for k in range(n):
    for i in range(n):
        for j in range(n):
            d[i][j] = min(d[i][j], d[i][k] + d[k][j])
print("D = " + show(d).replace("\n", "\n    "))
print("Stavanger to Tromso:", show(d[3][4]))
t = cities.index("Tromso")
print("\n".join(f"x = Tromso, y = {cities[j]}" for j in range(n) if 1000 < d[t][j] < math.inf))
print("Unreachable[Oslo, y] =", show([float(d[0][j] == math.inf) for j in range(n)]))
for c in range(5):
    print(c, "nearest:", min((d[c][j], j) for j in range(n) if j != c)[1])
