"""The melody, as compIAM groups its tasks: pitch salience and the predominant line
(:mod:`.salience`), a note's pitch (:mod:`.pitch`), pitch trackers compared
(:mod:`.trackers`), the tonic (:mod:`.tonic`) and the ragas' learned note statistics
(:mod:`.pitch_model`)."""
