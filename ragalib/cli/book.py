"""The executed series as a book: one HTML page per chapter, titled and linked to the next,
a contents page, ``build/index.html``, and the glossary, ``build/glossary.html``.

``make run`` writes it (:mod:`.series`). Each page is titled by its chapter's heading, and
links from one chapter to another (written to ``.ipynb`` so that they work in JupyterLab)
point to the ``.html`` pages instead. The contents page lists the chapters in order with what
each teaches and what it costs to run, the learning path, and what the pages need from the
network: nbconvert loads MathJax and the widget manager from a CDN, so offline the formulas
show as LaTeX and the widgets as their last saved picture or not at all.
"""

import html
import re
from pathlib import Path

from ..paths import PROJECT_ROOT

PREREQUISITES = ("Python (functions, loops, dictionaries), NumPy arrays, and plotting with "
                 "matplotlib; chapter 05 onwards assumes you have seen a neural network "
                 "trained with Keras (fit, epochs, a validation set). No knowledge of Indian "
                 "music is assumed: chapter 00 starts from the swaras.")

LEARNING_PATH = (
    ("Sound and its pictures", "00-03", "the ragas, amplitude, spectrograms, MFCCs"),
    ("The published method, rebuilt and judged honestly", "04-06",
     "a dataset split by take, the CNN, tuning"),
    ("From segments to songs", "07-08", "raga detection in a song, recommendations"),
    ("Beyond the published method", "09-11",
     "features that survive a change of instrument, a service, real singing"),
)

GLOSSARY = PROJECT_ROOT / "docs" / "glossary.md"
"""The glossary's source, read on GitHub and in JupyterLab as it is."""

_STYLE = """<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; }
table { border-collapse: collapse; } td, th { border-bottom: 1px solid #ddd; padding: .5rem;
       vertical-align: top; text-align: left; }
</style>"""

_LINK = re.compile(r'href="((?:\./)?\d\d_[A-Za-z0-9_]+)\.ipynb(#[^"]*)?"')


def _markdown(nb, index):
    cells = [c for c in nb.cells if c.cell_type == "markdown"]
    return cells[index].source if len(cells) > index else ""


def chapter_title(nb, fallback=""):
    """The chapter's first ``# `` heading, such as ``"03 · MFCC: ..."``."""
    match = re.search(r"^# (.+)$", _markdown(nb, 0), flags=re.MULTILINE)
    return match.group(1).strip() if match else fallback


def _paragraph(text, label):
    match = re.search(rf"\*\*{label}\*\*:?\s*(.+?)(?:\n\s*\n|$)", text, flags=re.DOTALL)
    return " ".join(match.group(1).split()) if match else ""


def chapter_summary(nb):
    """What the chapter's opening says you can do after it, and its time banner, as text."""
    first = _markdown(nb, 0)
    return _paragraph(first, "After this chapter"), _paragraph(first, "Time:")


def page(nb, fallback_title):
    """The HTML page of one executed chapter: titled by its heading, its links to other
    chapters pointing to their pages, and to the glossary's page."""
    from nbconvert import HTMLExporter

    nb.metadata["title"] = chapter_title(nb, fallback_title)
    body, _ = HTMLExporter().from_notebook_node(nb)
    body = _LINK.sub(lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', body)
    return body.replace('href="../docs/glossary.md"', 'href="glossary.html"')


def _inline(text):
    """Escaped text with the markdown's `code`, **bold** and *italics* kept."""
    text = html.escape(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
    return re.sub(r"\*([^*]+)\*", r"<i>\1</i>", text)


def index_page(chapters):
    """The contents page. ``chapters`` is a list of ``(file name, notebook)`` in order."""
    rows = []
    for name, nb in chapters:
        after, time = chapter_summary(nb)
        title = chapter_title(nb, name)
        rows.append(f'<tr><td><a href="{html.escape(Path(name).with_suffix(".html").name)}">'
                    f"{html.escape(title)}</a></td><td>{_inline(after)}</td>"
                    f"<td>{_inline(time)}</td></tr>")
    path = "".join(f"<li><b>{html.escape(part)}</b> (chapters {span}): {html.escape(what)}</li>"
                   for part, span, what in LEARNING_PATH)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Raga detection and recommendation: the series</title>
{_STYLE}</head><body>
<h1>Raga detection and recommendation: the series</h1>
<p>Audio machine learning on Indian music, one executed chapter per page. Read them in order:
each builds on the ones before.</p>
<h2>Before you start</h2><p>{html.escape(PREREQUISITES)} The <a href="glossary.html">glossary</a>
explains the Indian-music and machine-learning terms, with the chapter that teaches each.</p>
<h2>The learning path</h2><ol>{path}</ol>
<h2>Chapters</h2>
<table><thead><tr><th>chapter</th><th>after it you can</th><th>time to run</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<h2>Offline</h2>
<p>The pages are the executed notebooks, with every figure and sound inside them. Two things
come from the network when you open them: MathJax, which typesets the formulas (offline they
show as LaTeX source), and the widget manager, which draws the interactive widgets' saved
state (offline they are left out). To run and change the chapters, open them in JupyterLab
(<code>make lab</code>).</p>
</body></html>
"""


def glossary_page(source=GLOSSARY):
    """The glossary as an HTML page (``docs/glossary.md``, rendered with nbconvert's
    markdown renderer, mistune)."""
    import mistune

    body = mistune.html(Path(source).read_text(encoding="utf-8"))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f"<title>Glossary</title>\n{_STYLE}</head><body>\n"
            f'<p><a href="index.html">Contents</a></p>\n{body}</body></html>\n')
