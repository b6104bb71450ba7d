# Oracle for word_lists.tl: the same string and list handling in Python.
import numpy as np
from oracle_format import show
words = ["tensor", "logic", "unifies", "rules", "and", "einsums"]
out = [f"count: {len(words)}", f"longest: {max(words, key=len)}", "joined: " + "-".join(words)]
lengths = [len(w) for w in words]
out.append("lengths: " + show(np.array(lengths, float)))
out.append(f"mean length: {sum(lengths) / len(words):g}")
kept = []
for w in words:
    if w == "logic":
        continue
    if w == "and":
        break
    kept.append(f"{w}({len(w)})")
out.append("before 'and': " + " ".join(kept) + f" | {len(kept)} kept")
out.append(f"repeat: {'ab' * 3} | equal: true | differ: true")
print("\n".join(out))
