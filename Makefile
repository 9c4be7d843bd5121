# The series in four commands; see README.md.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup run test test-browser lab clean

setup: $(STAMP)

# (Re)install when the venv is missing or requirements/pyproject changed since the last install.
# PYTHONWARNINGS hides setuptools' note on how an editable install finds the package:
# information, not a fault.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ragalib.cli.warmup
	touch $(STAMP)

run: setup
	$(PY) -m ragalib.cli.series

# The chapters run under nbval from build/chapters-with-solutions: each one as committed,
# followed by the code of its solutions (tests/with_solutions.py).
test: setup
	$(PY) -m tests.with_solutions build/chapters-with-solutions
	RAGALIB_QUICK=1 $(PY) -m pytest tests build/chapters-with-solutions --nbval-lax \
		-p no:cacheprovider -n 2 --ignore=tests/browser

# The chapters with widgets in JupyterLab in headless Chromium (Debian's: apt-get install chromium).
test-browser: setup
	RAGALIB_QUICK=1 $(PY) -m pytest tests/browser -p no:cacheprovider -n 2

lab: setup
	$(VENV)/bin/jupyter lab notebooks

clean:
	rm -rf build
