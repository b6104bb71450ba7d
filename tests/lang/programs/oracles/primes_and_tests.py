# Oracle for primes_and_tests.tl: primes below 50 by trial division in Python.
from math import gcd

from oracle_format import show

primes = [n for n in range(2, 50) if all(n % d for d in range(2, n))]
print("\n".join(f"p = {p}, q = {p + 2}" for p in primes if p + 2 in primes))
print(f"c = {len(primes)}")
print("primes:", show([float(p) for p in primes]))
print("tensor count:", len(primes), "gcd(84, 36) =", gcd(84, 36))
