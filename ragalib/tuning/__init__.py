"""Hyper-parameter search with KerasTuner: the search on one machine (:mod:`.tuner`), the
chief that hands out trials (:mod:`.chief`) and the processes of a search on many
(:mod:`.cluster`)."""
