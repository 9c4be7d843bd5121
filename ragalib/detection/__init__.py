"""Raga recognition: what a song gives each judge (:mod:`.evidence`) and the pipeline from a
file to its raga (:mod:`.pipeline`)."""
