"""The `.tl` language in IPython and Jupyter: `%load_ext tensorlogic.notebook`, then

    %%tl                  runs the cell as part of one growing program (later cells see earlier
                          declarations, values and learned tensors) and shows the tensors and
                          relations the cell defines as tables
    %%tl Ancestor Y       ... and shows these instead
    %tl_show Ancestor     shows tensors or relations of the program so far
    %tl_reset             forgets the program

The program is also bound to `tl_program` in the user namespace (`tl_program["Y"]`,
`tl_program.query(...)`).  IPython is the `notebook` extra; only this module imports it."""
from __future__ import annotations

import sys

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from .lang.errors import TensorLogicRuntimeError, TensorLogicSyntaxError, TensorLogicTypeError
from .lang.repl import Session
from .lang.tables import Tables, table

CELL = "<repl>"   # the session's file name: spans of the cells' items carry it


@magics_class
class TensorLogicMagics(Magics):
    """The %%tl, %tl_show and %tl_reset magics over one growing .tl program per IPython session (registered by
    load_ipython_extension)."""
    def __init__(self, shell):
        super().__init__(shell)
        self.session = Session()

    def _defined_from(self, first_line):
        """Tensors and relations whose first appearance is at or after `first_line`."""
        m = self.session.program.model
        found = [(info.span.line, name) for name, info in list(m.relations.items()) + list(m.tensors.items())
                 if info.span is not None and info.span.file == CELL and info.span.line >= first_line]
        return [name for _, name in sorted(found)]

    def _tables(self, names):
        prog = self.session.program
        unknown = [n for n in names if prog is None or n not in prog.model.tensors and n not in prog.model.relations]
        if unknown:
            print(f"tl: no tensor or relation named {', '.join(unknown)}", file=sys.stderr)
            return None
        return Tables(table(prog, n) for n in names) if names else None

    @cell_magic
    def tl(self, line, cell):
        """%%tl [names]: adds the cell to the program and shows, as tables, the tensors and relations the cell
        defines (or the names given). Errors are printed to stderr; a cell with a syntax or type error is not
        added."""
        first_line = self.session.text.count("\n") + 1
        try:
            self.session.feed(cell)
        except (TensorLogicSyntaxError, TensorLogicTypeError, TensorLogicRuntimeError, AssertionError) as err:
            print(str(err.args[0]) if err.args else type(err).__name__, file=sys.stderr)
            return None
        self.shell.push({"tl_program": self.session.program})
        return self._tables(line.split() or self._defined_from(first_line))

    @line_magic
    def tl_show(self, line):
        """%tl_show names: shows the named tensors or relations of the program so far as tables."""
        return self._tables(line.split())

    @line_magic
    def tl_reset(self, line):
        """%tl_reset: forgets the program (and unbinds tl_program)."""
        self.session = Session()
        self.shell.push({"tl_program": None})


def load_ipython_extension(ipython):
    """What `%load_ext tensorlogic.notebook` calls: registers the magics on the shell."""
    ipython.register_magics(TensorLogicMagics(ipython))
