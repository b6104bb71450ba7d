# Oracle for alarm_network.tl: the joint distribution by a numpy einsum in float64 over the
# f16-rounded tables, marginals and posteriors by sums; rounded values are checked to lie away from
# rounding boundaries.
import numpy as np
from oracle_format import rnd, show

h = lambda x: np.array(x, dtype=np.float16).astype(float)
PB, PE = h([0.999, 0.001]), h([0.998, 0.002])
PA = h([[[0.999, 0.001], [0.71, 0.29]], [[0.06, 0.94], [0.05, 0.95]]])
PJ, PM = h([[0.95, 0.05], [0.1, 0.9]]), h([[0.99, 0.01], [0.3, 0.7]])
J = np.einsum("b,e,bea,aj,am->beajm", PB, PE, PA, PJ, PM)
both = J[:, :, :, 1, 1].sum(axis=(1, 2))
john = J[:, :, :, 1, 0].sum(axis=2)
print("total probability:", show(rnd(J.sum(), 100)))
print("p(alarm):", show(rnd(J.sum(axis=(0, 1, 3, 4))[1], 10000)))
print("p(burglary | john and mary call):", show(rnd(both[1] / both.sum(), 100)))
print("p(earthquake | only john calls):", show(rnd(john.sum(axis=0)[1] / john.sum(), 10000)))
print("burglary more likely than not when both call:", show(bool(both.argmax() == 1)))
