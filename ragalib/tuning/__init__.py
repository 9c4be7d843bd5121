"""Hyper-parameter search with KerasTuner: the search on one machine (:mod:`.tuner`), the
chief that hands out trials (:mod:`.chief`) and the processes of a search on many
(:mod:`.cluster`).

Taught in notebook 06_tuning, which calls the search's functions here
(``tuning.search(...)``, ``tuning.trials_table(...)``: :mod:`.tuner`'s, loaded on first use).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["chief", "cluster", "tuner"],
    submod_attrs={
        "tuner": ["HYPERBAND_FACTOR", "PUBLISHED", "TRIAL_PATIENCE", "TUNERS", "best_settings",
                  "budget", "check_search", "cluster_role", "comparison_rows",
                  "comparison_sentence", "cost", "hyperband_plan", "judged_settings",
                  "project_name", "search",
                  "search_identity", "seconds_per_epoch", "settings_from", "settings_of",
                  "summary", "trial_score", "trials_table"],
    },
)
