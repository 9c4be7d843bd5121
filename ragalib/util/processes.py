"""Stopping the processes ragalib starts (the detector's service, a tuning chief and its
workers, the browser tests' JupyterLab): one way for all of them.

Behind notebooks 06_tuning and 10_serving (the processes they start).
"""

import os
import signal
import subprocess
import time


def stop_groups(processes, *, grace):
    """Stop processes each started in a session of its own, with everything they started:
    SIGTERM to every process group still running, then SIGKILL to those still running
    ``grace`` seconds later (one deadline for all).

    Behind notebooks 06_tuning and 10_serving (not called there by name).
    """
    running = [p for p in processes if p.poll() is None]
    for process in running:
        _signal_group(process, signal.SIGTERM)
    end = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def stop_group(process, *, grace):
    """Stop one process started in a session of its own, and everything it started (see
    :func:`stop_groups`).

    Behind notebook 10_serving (the service it starts); the browser tests stop JupyterLab so.
    """
    stop_groups([process], grace=grace)


def _signal_group(process, sig):
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:          # it ended between the check and the signal
        pass
