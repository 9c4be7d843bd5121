"""How good each choice is: songs scored (:mod:`.scores`), the candidate detectors compared
(:mod:`.candidates`), a folder of your recordings (:mod:`.folder`) and the chapters' checked
claims (:mod:`.findings`)."""
