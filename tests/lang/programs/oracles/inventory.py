# Oracle for inventory.tl: the same steps on Python tuples.
from oracle_format import show

items = [("bolt", 120, 0.25), ("nut", 0, 0.1), ("gear", 7, 12.5)]
total = lambda xs: sum(q * p for _, q, p in xs)
print("total value:", show(total(items)))
print("out of stock:", "[" + ", ".join(n for n, q, _ in items if q <= 0) + "]")
restocked = [(n, q + 10, p) for n, q, p in items]
print("after restock:", show(total(restocked)))
q = [float(x) for _, x, _ in restocked]
print("quantities:", show(q), "sum:", show(sum(q)))
n = 1
while n * n <= 50:
    n += 1
print("first square above 50:", n * n)
print("".join(n + ";" for n, _, _ in items), len(items))
