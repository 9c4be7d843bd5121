"""The command line, ``python -m ragalib``: its parser (:mod:`.main`), what each command does
(:mod:`.commands`, :mod:`.reports`, :mod:`.bench`), the notebook runner (:mod:`.series`) and the
set-up step (:mod:`.warmup`). Nothing a notebook imports lives here."""
