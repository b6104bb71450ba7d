# Oracle for word_embeddings.tl: cosine similarities, thresholds and the analogy in float64 numpy.
import numpy as np
from oracle_format import show, rnd
words = ["king", "queen", "man", "woman", "apple", "pear"]
E = np.array([[0.8, 0.9, 0.1], [0.9, 0.1, 0.8], [0.2, 0.9, 0.1], [0.2, 0.1, 0.9], [0.1, 0.5, 0.5],
              [0.0, 0.6, 0.6]])
norm = np.sqrt((E * E).sum(1))
cos = E @ E.T / np.outer(norm, norm)
near = cos - 0.95
assert (np.abs(near) > 0.005).all()
similar = [(a, b) for a in range(6) for b in range(6) if near[a, b] > 0 and a != b]
fruit = {4}
target = E[0] - E[2] + E[3]
score = E @ target / norm
out = [f"cos(king, queen) = {show(rnd(cos[0, 1], 100))}", f"cos(apple, pear) = {show(rnd(cos[4, 5], 100))}"]
out += [f"a = {words[a]}, b = {words[b]}" for a, b in similar]
out += [f"w = {words[w]}" for w in range(6) if any(a == w and b in fruit for a, b in similar)]
out.append("Score = " + show(rnd(score, 100)))
out.append(f"king - man + woman = {words[int(np.argmax(np.where(np.arange(6) == 0, -9, score)))]}")
print("\n".join(out))
