"""Stage 2, checking: imports, declarations, name resolution, domains, strata, static shapes and the
contraction plan of every right side, stored on the checked program (`Model`)."""
