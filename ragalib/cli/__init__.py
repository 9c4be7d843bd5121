"""The command line, ``python -m ragalib``: its parser (:mod:`.main`) and the types of its
arguments (:mod:`.arguments`), what each command does (:mod:`.commands`, :mod:`.reports`,
:mod:`.bench`, :mod:`.serve`), the notebook runner (:mod:`.series`) and the set-up step
(:mod:`.warmup`). Nothing a notebook imports lives here."""
