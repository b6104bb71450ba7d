# Oracle for edit_distance.tl: the Levenshtein dynamic programme in Python.
from oracle_format import show

src = [chr(ord("a") + k) for k in (10, 8, 19, 19, 4, 13)]
dst = [chr(ord("a") + k) for k in (18, 8, 19, 19, 8, 13, 6)]
d = [[i + j if i * j == 0 else 0 for j in range(len(dst) + 1)] for i in range(len(src) + 1)]
for i in range(1, len(src) + 1):
    for j in range(1, len(dst) + 1):
        d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (src[i - 1] != dst[j - 1]))
table = show(d)
print("D = " + table.replace("\n", "\n    "))
print(f"{''.join(src)} -> {''.join(dst)}:", show(d[-1][-1]))
