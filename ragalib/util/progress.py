"""Progress bars: one switch for the whole package, not a ``progress=`` on every call.

Behind notebooks 04_dataset to 09_robust_features, whose long cells (rendering takes, building
datasets, training, searching, indexing songs) each draw a bar. Every bar in ``ragalib`` is made
by :func:`bar`, so two switches cover them all:

* tqdm's own, for a whole process and the processes it starts: ``TQDM_DISABLE=1`` in the
  environment (tqdm reads it for every bar it draws);
* :func:`quiet`, for a block of code: the command line's ``detect``, ``report`` and ``bench``
  and any ``--json`` output run inside ``with quiet():`` (a bar would break up their lines).
  ``with quiet(False):`` draws bars again inside such a block, for work long enough to need
  one (building the default detector when it is missing).

A ``ContextVar`` holds the second, so a block made quiet in one thread (a request the HTTP
service answers) does not silence a bar another thread draws.
"""

from contextlib import contextmanager
from contextvars import ContextVar

_hidden = ContextVar("ragalib_progress_hidden", default=False)


def shown():
    """Whether bars are drawn here, as :func:`quiet` leaves it (tqdm still honours
    ``TQDM_DISABLE``). Behind notebook 04_dataset."""
    return not _hidden.get()


@contextmanager
def quiet(hide=True):
    """Draw no progress bar inside the ``with`` block; ``hide=False`` draws them there again.

    Behind notebook 04_dataset; the command line uses it for ``--json`` and its reports.
    """
    token = _hidden.set(bool(hide))
    try:
        yield
    finally:
        _hidden.reset(token)


def bar(iterable=None, **kwargs):
    """A ``tqdm.auto`` bar (a widget in a notebook, text on stderr elsewhere), disabled inside
    :func:`quiet` and when there is nothing to count (no empty "0/0" bar). Behind notebook
    04_dataset."""
    from tqdm.auto import tqdm

    total = kwargs.get("total", len(iterable) if hasattr(iterable, "__len__") else None)
    if not shown() or total == 0:
        kwargs["disable"] = True
    return tqdm(iterable, **kwargs)


def keras_callbacks(desc):
    """Keras callbacks that draw an epoch bar (``tqdm.keras``), or none inside :func:`quiet`.
    Behind notebook 05_train_cnn."""
    if not shown():
        return []
    from tqdm.keras import TqdmCallback

    class EpochBar(TqdmCallback):
        """A bar closed short of its total is drawn red, as if training had failed: when
        early stopping ends training first, the bar ends at the last epoch trained, in
        green, and says so."""

        def on_train_end(self, *args, **kwargs):
            epochs = self.epoch_bar
            if epochs.total and 0 < epochs.n < epochs.total:
                epochs.set_description(f"{desc} (stopped early at epoch {epochs.n} of "
                                       f"{epochs.total})", refresh=False)
                epochs.total = epochs.n
                widget = getattr(epochs, "container", None)    # a notebook's bar widget
                if widget is not None:
                    widget.children[1].max = epochs.n        # its bar's length, not only text
            super().on_train_end(*args, **kwargs)

    return [EpochBar(verbose=0, desc=desc)]
