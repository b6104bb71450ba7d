# Oracle for sales_db.tl: the joins and group-bys by Python comprehensions (avg of integers is
# floor division, docs/language.md: avg rounds down).
stores = ["north", "south", "east"]
items = ["apple", "bread", "cheese", "dates"]
sale = [("north", "apple", 10), ("north", "bread", 4), ("north", "cheese", 1), ("south", "apple", 3),
        ("south", "dates", 7), ("east", "bread", 6), ("east", "cheese", 1), ("east", "apple", 5)]
price = {"apple": 40, "bread": 250, "cheese": 600, "dates": 900}
rev = {(s, i): q * price[i] for s, i, q in sale}
total = {s: sum(r for (t, _), r in rev.items() if t == s) for s in stores}
lines = {s: sum(1 for t, _, _ in sale if t == s) for s in stores}
qtys = {s: [q for t, _, q in sale if t == s] for s in stores}
sells = {(s, i) for s, i, _ in sale}
out = [f"s = {s}, t = {total[s]}" for s in stores]
out.append(f"n = {sum(q for _, i, q in sale if i == 'apple')}")
out += [f"s = {s}, n = {lines[s]}" for s in stores if lines[s] >= 3]
out.append(f"m = {min(r for (t, _), r in rev.items() if t == 'east')}")
out += [f"s = {s}, a = {sum(qtys[s]) // len(qtys[s])}" for s in stores]
out += [f"s = {s}" for s in stores if (s, "cheese") not in sells]
out += [f"s = {s}, i = {i}" for s in stores for i in items
        if (s, i) in rev and rev[s, i] == max(r for (t, _), r in rev.items() if t == s)]
out += [f"s = {s}" for s in stores if total[s] > 3000]
out.append("PerStore = [" + ", ".join(f"{lines[s]}." for s in stores) + "]")
out.append("PerItem = [" + ", ".join(f"{sum(1 for s in stores if (s, i) in sells)}." for i in items) + "]")
print("\n".join(out))
