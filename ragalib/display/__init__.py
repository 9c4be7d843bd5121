"""What a notebook shows and plays: figures (:mod:`.plots`), sliders and uploads
(:mod:`.widgets`) and audio players (:mod:`.listen`)."""
