"""Programs written in the common Datalog text form (Soufflé's `head :- body.`, bare names in
argument positions are variables, constants are quoted strings and integers) as `.tl` programs, or
as clingo programs for comparisons.  Relations become `r_<name>` and variables `v_<name>`, so that
no variable meets a constant, a keyword or a built-in."""
from __future__ import annotations

import re

TOKEN = re.compile(r'\s*(?:(?P<str>"[^"]*")|(?P<num>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)'
                   r'|(?P<op>:-|<=|>=|!=|=|[-+*/%<>(),.]))')


def translate_rule(text, style="tl"):
    """One rule in `.tl` syntax (`<-`, `==`) or clingo's (`:-`, `=`, variables capitalised)."""
    out, pos, text = [], 0, text.strip().rstrip(".")
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"cannot read rule {text!r} at column {pos + 1}")
        pos = m.end()
        if m["name"]:
            name = m["name"]
            if name == "not":
                out.append("not ")
            elif text[pos:].lstrip().startswith("("):
                out.append(f"r_{name}")
            elif name == "_":
                out.append("_")
            else:
                out.append(f"{'V' if style == 'clingo' else 'v'}_{name}")
        elif m["op"]:
            if style == "tl":
                out.append({":-": " <- ", "=": " == "}.get(m["op"], m["op"]))
            else:
                out.append({":-": " :- "}.get(m["op"], m["op"]))
        else:
            out.append(m["str"] or m["num"])
    text = "".join(out)
    return text + "." if style == "clingo" else text


def constant(v):
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise ValueError(f"a constant is a string or an integer, not {v!r}")
    return str(v) if isinstance(v, int) else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def program(rules, facts=None, arities=None, style="tl", domain=None):
    """Program text: the rules, the facts ({name: rows}) when given, and for `.tl` a declaration of
    every relation that a rule reads but nothing states (an empty relation, or one whose facts
    come later through `add_facts`); `arities` gives those relations' arities, `domain` the
    domain of every position of what is declared (inferred when None)."""
    lines, heads, read = [], set(), {}
    for rule in rules:
        text = translate_rule(rule, style)
        head, _, body = text.partition("<-" if style == "tl" else ":-")
        heads |= set(re.findall(r"r_(\w+)\s*\(", head))
        for name, args in re.findall(r"r_(\w+)\s*\(([^()]*)\)", body):
            read.setdefault(name, len([a for a in args.split(",") if a.strip()]))
        lines.append(text)
    end = "." if style == "clingo" else ""
    for name, rows in (facts or {}).items():
        lines += [f"r_{name}({', '.join(constant(v) for v in row)}){end}" for row in rows]
    if style == "tl":
        stated = set(facts or ())
        for name, n in sorted({**read, **(arities or {})}.items()):
            if name not in heads and name not in stated:
                typed = f": {domain}" if domain else ""
                lines.insert(0, f"relation r_{name}({', '.join(f'a{k}{typed}' for k in range(n))})")
    return "\n".join(lines) + "\n"
