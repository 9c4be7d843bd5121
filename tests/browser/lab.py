"""JupyterLab on 127.0.0.1 and headless Chromium driving it, for the real-browser tests.

The server runs from this venv on a free port, with no token, in quick mode, with a scratch
``RAGALIB_DATA`` and copies of the notebooks (so JupyterLab's autosave never touches the
committed ones), and notebook windowing off (every cell stays in the page). ``warm`` is a quick-mode data folder to start from (copied, so the test never writes to it):
after ``make test`` the chapters' quick datasets and models are already built, and every
cache is keyed by its content, so a copy is as good as a rebuild. Both are stopped when the
test session ends, even after a failure.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ragalib.util.processes import stop_group

CHROMIUM = os.environ.get("RAGALIB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
"""Flags for a headless Chromium on a closed network (see the machine notes)."""
START_SECONDS = 120


def require_chromium():
    """Skip the calling test module when Debian's Chromium is missing, or fail it when
    ``RAGALIB_BROWSER_REQUIRED`` is set (``.ci/run``)."""
    import pytest

    if not Path(CHROMIUM).exists():
        if os.environ.get("RAGALIB_BROWSER_REQUIRED"):
            raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)",
                    allow_module_level=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A JupyterLab server on 127.0.0.1 serving copies of ``notebooks`` from ``root``."""

    def __init__(self, notebooks, root, *, warm=None):
        self.root = Path(root)
        self.port = free_port()
        work = self.root / "notebooks"
        work.mkdir(parents=True)
        for path in notebooks:
            shutil.copy(path, work / path.name)
        if warm is not None and Path(warm).is_dir():     # a copy: the test never writes there
            shutil.copytree(warm, self.root / "data" / "quick", symlinks=True)
        settings = self.root / "settings" / "@jupyterlab" / "notebook-extension"
        settings.mkdir(parents=True)
        (settings / "tracker.jupyterlab-settings").write_text(
            json.dumps({"windowingMode": "none"}), encoding="utf-8")
        news = self.root / "settings" / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True)
        (news / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")
        env = {**os.environ, "RAGALIB_QUICK": "1", "RAGALIB_DATA": str(self.root / "data"),
               "JUPYTERLAB_SETTINGS_DIR": str(self.root / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(self.root / "workspaces"),
               "JUPYTER_RUNTIME_DIR": str(self.root / "runtime")}
        self.log = open(self.root / "lab.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
             "--IdentityProvider.token=", "--ServerApp.password=",
             "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={work}",
             "--ServerApp.allow_root=True", "--LabApp.news_url=",
             "--ServerApp.open_browser=False"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _wait(self):
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited; see {self.root / 'lab.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer in {START_SECONDS} s")

    def stop(self):
        """Stop the server and every kernel it started (its whole process group)."""
        stop_group(self.process, grace=20)
        self.log.close()
