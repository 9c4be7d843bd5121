"""The package's own imports: data flows one way, with no import cycle."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ragalib"


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path, modules):
    """The ragalib modules ``path`` imports anywhere (function bodies included)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in modules else base)
    return {m for m in found if m in modules and m != name}


def graph():
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imported(p, modules) for p in paths}


def find_cycle(edges):
    """One import cycle as a list of modules, or None (a depth-first search)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_relative_imports_are_resolved_to_modules():
    edges = graph()
    assert "ragalib.errors" in edges["ragalib.util.files"]
    assert "ragalib.ragas" in edges["ragalib.corpus.songs"]        # from ..ragas import ...
    assert "ragalib.corpus.dataset" in edges["ragalib.detection.default"]   # from ..corpus import dataset


def test_ragalib_has_no_import_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


FACE = {"__init__", "__main__", "audio", "constants", "errors", "paths", "ragas", "similarity"}
"""The top level: the face and the few modules every room uses (similarity is one task in one
module; a package of one module would add a level and nothing else)."""


def test_only_the_face_sits_at_the_top_level():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == FACE


def test_no_module_imports_a_private_name_of_another():
    crossings = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or
                                                     (node.module or "").startswith("ragalib")):
                crossings += [f"{module_name(path)}: {a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
    assert not crossings, crossings


def test_only_the_command_line_imports_the_command_line():
    edges = graph()
    outside = {m: sorted(t for t in targets if t.startswith("ragalib.cli."))
               for m, targets in edges.items() if not m.startswith(("ragalib.cli", "ragalib.__main__"))}
    assert not {m: t for m, t in outside.items() if t}


def test_importing_the_face_loads_no_heavy_library():
    import subprocess
    import sys

    code = ("import sys, ragalib as rl; rl.get_raga; "
            "print(sorted(m for m in ('librosa', 'tensorflow', 'keras', 'music21', 'fastapi') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"
