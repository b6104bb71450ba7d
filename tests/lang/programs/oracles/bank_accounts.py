# Oracle for bank_accounts.tl: the same account operations on Python floats.
alice, bob = {"o": "alice", "b": 0.0, "r": 0.5}, {"o": "bob", "b": 0.0, "r": 0.25}
out = []
def withdraw(a, x):
    if x > a["b"]:
        out.append(f"  refused: {a['o']} cannot withdraw {x:g}")
    else:
        a["b"] -= x
alice["b"] += 100.0; withdraw(alice, 30.0)
bob["b"] += 40.0; withdraw(bob, 50.0)
for _ in range(3):
    for a in (alice, bob):
        a["b"] *= 1 + a["r"]
out.append(f"alice: {alice['b']:g}")
out.append(f"bob: {bob['b']:g}")
out.append(f"total: {alice['b'] + bob['b']:g}")
alice["b"] -= 10.0; bob["b"] -= 10.0
out.append(f"after fees: {alice['b']:g} {bob['b']:g}")
out.append("richest is " + ("bob" if bob["b"] > alice["b"] else "alice"))
print("\n".join(out))
