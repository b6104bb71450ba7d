# Oracle for sprinkler_network.tl: the joint distribution enumerated with itertools in float64,
# marginals and conditionals as sums over it; the network's arcs closed by hand.
import itertools
import sys
from oracle_format import show, rnd

PC = [0.45, 0.55]
PS = [[0.5, 0.5], [0.9, 0.1]]
PR = [[0.8, 0.2], [0.2, 0.8]]
PW = [[[1.0, 0.0], [0.1, 0.9]], [[0.1, 0.9], [0.02, 0.98]]]
J = {(c, s, r, w): PC[c] * PS[c][s] * PR[c][r] * PW[s][r][w]
     for c, s, r, w in itertools.product([0, 1], repeat=4)}
P = lambda f: sum(p for k, p in J.items() if f(*k))
wet = P(lambda c, s, r, w: w)
rain = P(lambda c, s, r, w: r)
rain_wet = P(lambda c, s, r, w: r and w) / wet
spr_wet = P(lambda c, s, r, w: s and w) / wet
spr_wet_rain = P(lambda c, s, r, w: s and w and r) / P(lambda c, s, r, w: w and r)
print("raw", wet, rain, rain_wet, spr_wet, spr_wet_rain, file=sys.stderr)
pct = lambda p: show(rnd(p * 100, 10))
out = [f"total probability {show(rnd(sum(J.values()), 100))}",
       f"P(wet) = {pct(wet)} %", f"P(rain) = {pct(rain)} %", f"P(rain | wet) = {pct(rain_wet)} %",
       f"P(sprinkler | wet) = {pct(spr_wet)} %", f"P(sprinkler | wet, rain) = {pct(spr_wet_rain)} %",
       "rain is the likelier explanation" if rain_wet > spr_wet else "the sprinkler is"]
# The arcs' closure; every argument position shares one inferred domain, ordered by first appearance.
arcs = [("Cloudy", "Sprinkler"), ("Cloudy", "Rain"), ("Sprinkler", "WetGrass"), ("Rain", "WetGrass")]
names = list(dict.fromkeys(n for a in arcs for n in a))
infl = set(arcs)
while True:
    more = infl | {(x, z) for x, y in infl for y2, z in arcs if y == y2}
    if more == infl:
        break
    infl = more
out += [f"x = {x}" for x in names if (x, "WetGrass") in infl]
out += [f"x = {x}" for x in names if any(a == x for a, _ in arcs) and not any(b == x for _, b in arcs)]
print("\n".join(out))
