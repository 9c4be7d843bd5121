"""Plumbing every stage shares: atomic files (:mod:`.files`), worker pools
(:mod:`.parallel`), progress bars (:mod:`.progress`), intervals and shares (:mod:`.stats`) and
text tables (:mod:`.tables`)."""
