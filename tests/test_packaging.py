"""ragalib installed anywhere: the wheel carries its catalogue and page, and an installed package
keeps what it generates in the user's data folder, never beside its code."""

import subprocess
import sys
import zipfile
from pathlib import Path

import platformdirs

from ragalib import paths, ragas

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_carries_the_catalogue_and_the_service_page(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "--no-build-isolation", "--quiet", "-w", str(tmp_path)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("ragalib-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"ragalib/catalogues/ragas.json", "ragalib/serving/page.html",
            "ragalib/detection/default.py", "ragalib/melody/salience.py"} <= names
    assert not any(n.startswith(("tests/", "notebooks/", "data/")) for n in names)


def test_the_catalogue_is_package_data():
    assert Path(str(ragas.CATALOGUE_PATH)).parent == ROOT / "ragalib" / "catalogues"
    assert len(ragas.load_catalogue()) == 10


def test_generated_data_goes_to_ragalib_data_then_the_checkout_then_the_user_folder(
        monkeypatch, tmp_path):
    monkeypatch.setenv("RAGALIB_DATA", str(tmp_path))
    assert paths.data_dir() == tmp_path
    monkeypatch.delenv("RAGALIB_DATA")
    assert paths.in_checkout() and paths.data_dir() == ROOT / "data"
    monkeypatch.setattr(paths, "in_checkout", lambda: False)      # as from an installed wheel
    assert paths.data_dir() == Path(platformdirs.user_data_dir("ragalib", appauthor=False))
    assert "site-packages" not in str(paths.data_dir())
