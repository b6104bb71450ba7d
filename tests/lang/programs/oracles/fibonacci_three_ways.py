# Oracle for fibonacci_three_ways.tl: Fibonacci numbers by a Python loop.
F = [0, 1]
while len(F) < 21:
    F.append(F[-1] + F[-2])
out = [f"v = {F[20]}"]
out += [f"n = {n}, v = {v}" for n, v in enumerate(F) if v > 1000]
out += [f"n = {n}" for n, v in enumerate(F) if v % 2 == 0 and n > 10]
out.append(f"recursive: {F[15]} loop: {F[20]}")
out.append("agree: true")
print("\n".join(out))
