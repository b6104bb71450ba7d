# Oracle for import_geometry.tl: perimeters and shoelace areas in Python floats.
import math
from oracle_format import show, rnd
def perim(p):
    return sum(math.dist(p[i], p[(i + 1) % len(p)]) for i in range(len(p)))
def area(p):
    nxt = p[1:] + p[:1]
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(p, nxt))) / 2
tri = [(0, 0), (4, 0), (0, 3)]
sq = [(0, 0), (2, 0), (2, 2), (0, 2)]
house = [(0, 0), (2, 0), (2, 2), (1, 3), (0, 2)]
g = lambda v: f"{v:g}"
out = [f"triangle: perimeter {g(perim(tri))} area {g(area(tri))}",
       f"square: perimeter {g(perim(sq))} area {g(area(sq))}",
       f"house: area {g(area(house))} perimeter {show(rnd(perim(house), 100))}",
       "n = 5", "s = square", "s = house"]
print("\n".join(out))
