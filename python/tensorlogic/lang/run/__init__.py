"""Stage 3, running: the interpreter of a checked program on the tensor engine."""
