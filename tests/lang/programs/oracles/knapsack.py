# Oracle for knapsack.tl: the 0/1 knapsack's dynamic programme and its trace-back in Python.
from oracle_format import show

wt, val, cap = [2, 3, 4, 5, 9], [3, 4, 5, 8, 10], 20
v = [[0] * (cap + 1)]
for i in range(5):
    v.append([max(v[i][w], v[i][w - wt[i]] + val[i] if w >= wt[i] else 0) for w in range(cap + 1)])
w, taken = cap, []
for i in range(5, 0, -1):
    if v[i][w] != v[i - 1][w]:
        taken.append(i - 1)
        w -= wt[i - 1]
print("best value within 20:", show(v[5][cap]))
print("best per capacity:", show(v[5]))
print("items taken:", show(taken), "capacity left:", w)
