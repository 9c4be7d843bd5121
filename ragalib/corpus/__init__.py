"""What the series generates and reads: the takes (:mod:`.takes`), the test and dev songs
(:mod:`.songs`), the labelled segments (:mod:`.dataset`), their augmented copies
(:mod:`.augment`) and the published setting's takes and split (:mod:`.published`)."""
