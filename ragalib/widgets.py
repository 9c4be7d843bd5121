"""Every interactive control the notebooks show.

Each builder draws its first state at once, so the cell shows something (and is tested)
when a notebook runs headless, where nobody turns the knobs.
"""


def raga_explorer(seconds=20.0):
    """Pick a raga, a seed and a drone; hear the improvisation and see its sargam roll.

    Taught in notebook 00_meet_the_ragas.

    Returns
    -------
    ipywidgets.VBox
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import Audio, display

    from . import plots, ragas, synth

    raga = w.Dropdown(options=[(r.name, r.id) for r in ragas.load_catalogue().values()],
                      value="yaman", description="raga")
    seed = w.IntSlider(value=0, min=0, max=20, description="seed")
    drone = w.Checkbox(value=False, description="tanpura drone")
    out = w.Output()

    def update(_=None):
        with out:
            out.clear_output(wait=True)
            y, score = synth.improvise(raga.value, seconds, seed=seed.value,
                                       drone=drone.value, return_score=True)
            print(ragas.describe(raga.value))
            plots.sargam_roll(score)
            plt.show()
            display(Audio(y, rate=synth.SR))

    for control in (raga, seed, drone):
        control.observe(update, names="value")
    update()
    return w.VBox([w.HBox([raga, seed, drone]), out])
