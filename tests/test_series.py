import nbformat

from ragalib.cli import series


def notebook(folder, source):
    path = folder / "01_hang.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_notebook_whose_kernel_never_answers_is_run_again_in_a_fresh_kernel(tmp_path, capsys):
    # The first run of the cell outlasts the timeout, as a dropped reply would; the second
    # finds its marker and answers at once.
    path = notebook(tmp_path, "import pathlib, time\n"
                              "marker = pathlib.Path('first-run-done')\n"
                              "if not marker.exists():\n"
                              "    marker.write_text('x')\n"
                              "    time.sleep(60)\n"
                              "print('answered')")
    [(name, seconds, error)] = series.run_series([path], tmp_path / "build", timeout=8)
    assert error is None and name == "01_hang.ipynb" and seconds < 60
    assert "running it again in a fresh kernel" in capsys.readouterr().out
    assert "answered" in (tmp_path / "build" / "01_hang.ipynb").read_text()


def test_a_notebook_that_times_out_twice_is_reported_failed(tmp_path):
    path = notebook(tmp_path, "import time\ntime.sleep(60)")
    [(_, seconds, error)] = series.run_series([path], tmp_path / "build", timeout=4)
    assert error == "a cell got no answer from its kernel in 4 s" and seconds < 60
