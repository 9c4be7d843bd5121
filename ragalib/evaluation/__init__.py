"""How good each choice is: songs and takes scored (:mod:`.scoring`), the candidate detectors
compared (:mod:`.candidates`), a folder of your recordings (:mod:`.folder`), the chapters'
checked claims (:mod:`.findings`) and the published figures reproduced
(:mod:`.reproduction`)."""
