"""Stage 1, syntax: the grammar, the parser and the syntax tree it builds."""
