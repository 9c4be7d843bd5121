"""Every module, public function and class says which chapter teaches it (or which it works
behind), and a chapter said to teach it really uses it."""

import ast
import json
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


TAUGHT_IN = re.compile(r"Taught in\b.*?(?=\.(?:\s|$)|\n\s*\n|$)", re.DOTALL)
"""One "Taught in notebook(s) ..." sentence: up to the first full stop that ends a sentence, or
to the end of its paragraph. ("Behind notebook ..." and "Taught by use ..." make no claim.)"""
BACKTICKED = re.compile(r"`+([^`]+?)`+")
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def taught_in(docstring):
    """The notebooks a docstring's "Taught in ..." sentences name, in order of mention."""
    return [name for sentence in TAUGHT_IN.findall(docstring or "")
            for name in NOTEBOOK.findall(sentence)]


def names_in_code(source):
    """Every name a code cell uses: plain names, attribute names, names imported from ragalib."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("!", "%"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set(IDENTIFIER.findall(source))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ragalib"):
            names.update(alias.name for alias in node.names)
    return names


def notebook_names():
    """For each chapter, every name its code cells use or its prose puts in backticks."""
    chapters = {}
    for path in sorted((PACKAGE.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        names = set()
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] == "code":
                names |= names_in_code(source)
            elif cell["cell_type"] == "markdown":
                for quoted in BACKTICKED.findall(source):
                    names.update(IDENTIFIER.findall(quoted))
        chapters[path.stem] = names
    return chapters


def wrong_claims(definitions, chapters):
    """``(where, name: chapter)`` for each chapter a "Taught in" sentence names that never uses the name."""
    claims, wrong = 0, []
    for where, node in definitions:
        for chapter in taught_in(ast.get_docstring(node)):
            claims += 1
            if node.name not in chapters.get(chapter, ()):
                wrong.append(f"{where}: {chapter}")
    return claims, wrong


def test_the_claim_parser_reads_only_the_taught_in_sentence_and_every_notebook_in_it():
    doc = ('Plays it. Taught in notebooks 01_amplitude (the samples, 2.5 s of them),\n'
           '04_dataset and 07_song_detection, and used in 3 later chapters. See 05_train_cnn.\n\n'
           'Behind notebook 08_similarity (not called there by name).')
    assert taught_in(doc) == ["01_amplitude", "04_dataset", "07_song_detection"]
    assert taught_in("Taught in notebook 00_meet_the_ragas.\n\nMore about 03_mfcc") == ["00_meet_the_ragas"]
    assert taught_in("Taught by use: 05_train_cnn. Behind notebook 06_tuning.") == []
    assert names_in_code("%matplotlib inline\n!ls\nfrom ragalib.audio import load as read\n"
                         "x = tuning.search(y)") >= {"load", "tuning", "search", "x", "y"}

    play, stop = ast.parse('def play():\n    """Taught in notebooks 01_amplitude and 02_spectrogram."""\n'
                           'def stop():\n    """Taught in notebook 01_amplitude."""').body
    chapters = {"01_amplitude": {"play"}, "02_spectrogram": {"play", "stop"}}
    claims, wrong = wrong_claims([("a.py:1 play", play), ("a.py:3 stop", stop)], chapters)
    assert (claims, wrong) == (3, ["a.py:3 stop: 01_amplitude"])


def test_a_docstring_says_taught_in_a_notebook_only_where_that_notebook_uses_it():
    chapters = notebook_names()
    assert len(chapters) >= 10 and all(chapters.values()), "notebooks read as empty"
    claims, wrong = wrong_claims(public_definitions(), chapters)
    assert claims >= 100, f"only {claims} 'Taught in' claims found: is the parser broken?"
    assert not wrong, (f"{len(wrong)} of {claims} 'Taught in' claims name a notebook that "
                       "never uses the name (say 'Behind notebook NN_name (not called there "
                       "by name).' instead):\n"
                       + "\n".join(wrong))


class _Module:
    """A module's docstring, the name a chapter imports it by (a package's own name for its
    ``__init__``) and its public names: a chapter that uses one of them through a package's
    face (``features.mfcc`` for ``features.spectral``) teaches the module too."""

    def __init__(self, path):
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.name = path.parent.name if path.stem == "__init__" else path.stem
        self.public = {node.name for node in self.tree.body
                       if isinstance(node, (ast.FunctionDef, ast.ClassDef))
                       and not node.name.startswith("_")}


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if COMMAND_LINE in path.parents or path.stem == "__main__" or path.parent == PACKAGE \
                and path.stem == "__init__":
            continue
        yield f"{path.relative_to(PACKAGE.parent)}:1 module", _Module(path)


def test_a_module_says_taught_in_a_notebook_only_where_that_notebook_imports_it():
    chapters = notebook_names()
    claims, wrong = 0, []
    for where, module in modules():
        for chapter in taught_in(ast.get_docstring(module.tree)):
            claims += 1
            if not ({module.name} | module.public) & chapters.get(chapter, set()):
                wrong.append(f"{where} {module.name}: {chapter}")
    assert claims >= 20, f"only {claims} module claims found: is the parser broken?"
    assert not wrong, (f"{len(wrong)} of {claims} module docstrings say 'Taught in' a notebook "
                       "that neither imports the module nor uses a name of it:\n" + "\n".join(wrong))
