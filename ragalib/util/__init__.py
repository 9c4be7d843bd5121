"""Plumbing every stage shares: atomic files (:mod:`.files`), worker pools
(:mod:`.parallel`), stopping the processes ragalib starts (:mod:`.processes`), progress bars
(:mod:`.progress`), intervals and shares (:mod:`.stats`) and text tables (:mod:`.tables`)."""
