"""Tensors and relations of a run program as tables, in plain text and HTML (what the notebook
extension displays): a relation as the rows of bindings it holds, a tensor as a grid of values."""
from __future__ import annotations

import html

import numpy as np

from .constants import shown

MAX_ROWS = 50      # rows shown before "... N more rows"
MAX_COLUMNS = 50   # a tensor's values shown per row before "... N more columns" (a vector of 10^6 values made a
                   # table of 10^6 columns: 27 MB of HTML for the notebook to render)


class Table:
    """A titled table: `header` (column names, possibly empty) and `rows` (lists of cells, shown as
    `tl run` prints them: a string in quotes, a name bare)."""

    def __init__(self, title, header, rows, hidden=0, hidden_columns=0):
        self.title, self.header, self.rows, self.hidden = title, list(header), rows, hidden
        self.hidden_columns = hidden_columns

    def __repr__(self):
        cells = [self.header] + [[shown(c) for c in r] for r in self.rows] if self.header else \
            [[shown(c) for c in r] for r in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))] if cells and cells[0] else []
        lines = [self.title]
        for k, r in enumerate(cells):
            lines.append("  ".join(c.rjust(w) for c, w in zip(r, widths)).rstrip())
            if k == 0 and self.header:
                lines.append("  ".join("-" * w for w in widths))
        lines += [f"... {n} more {what}" for n, what in ((self.hidden_columns, "columns"), (self.hidden, "rows")) if n]
        return "\n".join(lines)

    def _repr_html_(self):
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(shown(c))}</td>" for c in r) + "</tr>"
                       for r in self.rows)
        more = "".join(f"<p>... {n} more {what}</p>" for n, what in ((self.hidden_columns, "columns"),
                                                                       (self.hidden, "rows")) if n)
        return (f"<table><caption>{html.escape(self.title)}</caption>"
                + (f"<thead><tr>{head}</tr></thead>" if head else "") + f"<tbody>{body}</tbody></table>{more}")


class Tables(list):
    """Several tables shown one after the other."""

    def __repr__(self):
        return "\n\n".join(repr(t) for t in self)

    def _repr_html_(self):
        return "".join(t._repr_html_() for t in self)


def relation_table(prog, name) -> Table:
    """The facts of a relation (given and derived) as rows of bindings, in index order."""
    info = prog.model.relations[name]
    params = [p.name for p in info.decl.params] if info.decl is not None else \
        [f"x{k}" for k in range(info.arity)]
    constants = [prog.domain(d.name) if d.name in prog.model.domains else prog.domain(f"{name}.{k}")
                 for k, d in enumerate(info.domains)]
    truth = np.asarray(prog[name].float().numpy()) > 0
    hits = np.argwhere(truth) if truth.ndim else np.zeros((1 if truth else 0, 0), dtype=int)
    rows = [[constants[k][i] for k, i in enumerate(idx)] for idx in hits[:MAX_ROWS]]
    return Table(f"relation {name}: {len(hits)} facts", params, rows, max(0, len(hits) - MAX_ROWS))


def tensor_table(prog, name) -> Table:
    """A tensor's values: a scalar, a vector as one row, a matrix as a grid; higher ranks by rows
    of their last axis with the leading indices."""
    value = prog[name]
    arr = np.asarray(value.float().numpy()) if hasattr(value, "numpy") else np.asarray(value)
    title = f"tensor {name}: {list(arr.shape)}"
    if arr.ndim == 0:
        return Table(title, [], [[arr.item()]])
    columns = min(arr.shape[-1], MAX_COLUMNS)
    more = arr.shape[-1] - columns
    if arr.ndim == 1:
        return Table(title, [str(j) for j in range(columns)], [list(arr[:columns])], hidden_columns=more)
    flat = arr.reshape(-1, arr.shape[-1])
    shown = min(len(flat), MAX_ROWS)
    lead = np.stack(np.unravel_index(np.arange(shown), arr.shape[:-1]), 1)  # the shown rows' indices only
    header = ["index"] + [str(j) for j in range(columns)]
    rows = [[", ".join(map(str, lead[r]))] + list(flat[r, :columns]) for r in range(shown)]
    return Table(title, header, rows, len(flat) - shown, more)


def table(prog, name) -> Table:
    if name in prog.model.relations:
        return relation_table(prog, name)
    return tensor_table(prog, name)
