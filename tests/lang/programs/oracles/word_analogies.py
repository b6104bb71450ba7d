# Oracle for word_analogies.tl: cosine similarities and the analogy with numpy in float64 over the
# f16-rounded embeddings; rounded values are checked to lie away from rounding boundaries.
import numpy as np
from oracle_format import rnd, show

words = "king queen man woman apple pear prince princess".split()
E = np.array([[0.9, 0.8, 0.1, 0.0], [0.9, 0.1, 0.8, 0.0], [0.1, 0.9, 0.1, 0.1], [0.1, 0.1, 0.9, 0.1],
              [0.0, 0.1, 0.1, 0.9], [0.1, 0.0, 0.1, 0.8], [0.7, 0.8, 0.1, 0.1], [0.7, 0.1, 0.8, 0.1]],
             dtype=np.float16).astype(float)
norm = np.sqrt((E * E).sum(1))
cos = E @ E.T / np.outer(norm, norm)
w = {x: k for k, x in enumerate(words)}
print("cos(king, queen):", show(rnd(cos[w["king"], w["queen"]], 100)))
print("cos(apple, pear):", show(rnd(cos[w["apple"], w["pear"]], 100)))
score = E @ (E[w["king"]] - E[w["man"]] + E[w["woman"]]) / norm
print("king - man + woman:", int(score.argmax()))
print("best word:", words[int(score.argmax())])
similar = (cos > 0.9) & ~np.eye(len(words), dtype=bool)
assert np.abs(cos - 0.9).min() > 0.01
print("\n".join(f"x = king, y = {words[j]}" for j in range(len(words)) if similar[w["king"], j]))
print("\n".join(f"y = {words[j]}" for j in range(len(words)) if similar[w["apple"], j]))
