"""The executed series as a book: titled pages, links between pages, a contents page."""

import re
from pathlib import Path

import nbformat
import pytest

from ragalib.cli import book

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks")
                   .glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def chapters():
    return [(path.name, nbformat.read(path, as_version=4)) for path in NOTEBOOKS]


def test_every_chapter_has_a_title_what_it_teaches_and_its_time(chapters):
    for name, nb in chapters:
        assert book.chapter_title(nb).startswith(name[:2] + " · "), name
        after, time = book.chapter_summary(nb)
        assert after.startswith("you can") and "full run" in time, name


def test_a_page_is_titled_by_its_chapter_and_links_to_the_next_page_not_the_notebook(chapters):
    name, nb = chapters[3]
    body = book.page(nb, "fallback")
    assert f"<title>{book.chapter_title(nb)}</title>" in body.replace("&#183;", "·")
    nxt = Path(chapters[4][0]).stem
    assert f'href="{nxt}.html"' in body and f'href="{nxt}.ipynb"' not in body
    assert not re.search(r'href="\d\d_[^"]*\.ipynb', body)


def test_the_contents_page_lists_every_chapter_in_order_and_says_what_needs_the_network(chapters):
    index = book.index_page(chapters)
    links = re.findall(r'<a href="(\d\d_[^"]+\.html)">', index)
    assert links == [Path(name).with_suffix(".html").name for name, _ in chapters]
    assert "Before you start" in index and "MathJax" in index and "offline" in index.lower()
    assert "<code>" in index                     # the summaries' markdown code is kept as code


def test_the_glossary_page_has_its_tables_and_links_back_to_the_contents():
    page = book.glossary_page()
    assert page.count("<table>") == 3 and '<a href="index.html">' in page
    assert "<strong>thaat</strong>" in page and "Dorian" in page


def test_a_chapter_links_to_the_glossary_page_not_its_markdown(chapters):
    body = book.page(chapters[0][1], "fallback")
    assert 'href="glossary.html"' in body and "glossary.md" not in body
