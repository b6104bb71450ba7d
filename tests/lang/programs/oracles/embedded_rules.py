# Oracle for embedded_rules.tl: the symbolic two-hop pairs by a Python join; the embedded rule's
# agreement checked with numpy on 300 random draws of 512-dimensional unit embeddings (float16
# rounded), none of which disagrees (the program's own draw cannot be reproduced outside the engine).
import numpy as np
cities = ["Oslo", "Bergen", "Paris", "Lyon", "Rome", "Milan", "Cairo"]
flights = [("Oslo", "Bergen"), ("Bergen", "Paris"), ("Paris", "Lyon"), ("Paris", "Rome"), ("Rome", "Milan"),
           ("Milan", "Cairo")]
two = sorted({(a, c) for a, b in flights for b2, c in flights if b == b2},
             key=lambda p: (cities.index(p[0]), cities.index(p[1])))
F = np.zeros((7, 7))
for a, b in flights:
    F[cities.index(a), cities.index(b)] = 1
T = np.zeros((7, 7))
for a, c in two:
    T[cities.index(a), cities.index(c)] = 1
rng = np.random.default_rng(0)
for _ in range(300):
    raw = rng.standard_normal((7, 512)).astype(np.float16).astype(float)
    emb = raw / np.sqrt((raw * raw).sum(1, keepdims=True))
    gram = emb @ emb.T           # emb (emb' F emb)(emb' F emb) emb' regrouped: 7 x 7 products only
    score = gram @ F @ gram @ F @ gram
    assert ((score - 0.5 > 0) == (T > 0)).all() and np.abs(score - 0.5).min() > 0.1
out = [f"x = {a}, z = {c}" for a, c in two]
out += ["embedded rule == symbolic rule: true", f"pairs found: {len(two)}",
        "unit norms: [1., 1., 1., 1., 1., 1., 1.]"]
print("\n".join(out))
