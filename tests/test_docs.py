"""Every public function and class says which chapter teaches it (or which it works behind)."""

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ragalib"
COMMAND_LINE = PACKAGE / "cli"
"""The command line and ``make run``: their docstrings name the command instead."""
NOTEBOOK = re.compile(r"\b\d\d_[a-z_]+\b")


def public_definitions():
    for path in sorted(PACKAGE.rglob("*.py")):
        if COMMAND_LINE in path.parents or path.stem == "__main__":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                yield f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}", node


def test_every_public_definition_names_a_notebook_that_exists():
    chapters = {p.stem for p in (PACKAGE.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    silent, wrong = [], []
    for where, node in public_definitions():
        named = set(NOTEBOOK.findall(ast.get_docstring(node) or ""))
        if not named:
            silent.append(where)
        wrong += [f"{where}: {name}" for name in named - chapters]
    assert not silent, f"{len(silent)} docstrings name no notebook: {silent[:5]}"
    assert not wrong, f"docstrings name notebooks that do not exist: {wrong[:5]}"
