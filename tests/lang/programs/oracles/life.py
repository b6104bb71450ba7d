# Oracle for life.tl: the game of life in numpy on a zero-padded board.
import numpy as np
from oracle_format import show

glider = np.zeros((6, 6))
glider[0, 1] = glider[1, 2] = glider[2, 0] = glider[2, 1] = glider[2, 2] = 1


def advance(b):
    p = np.pad(b, 1)
    n = sum(p[1 + dx:7 + dx, 1 + dy:7 + dy] for dx in (-1, 0, 1) for dy in (-1, 0, 1)) - b
    return ((n == 3) | ((b == 1) & (n == 2))).astype(float)


board = glider
for _ in range(4):
    board = advance(board)
print(show(board))
print("alive:", show(board.sum()))
print(show(advance(glider)))
print("same as one step: true")
