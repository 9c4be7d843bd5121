"""Small tables from lists of dicts: HTML for the notebooks, aligned text for the command
line (no pandas needed). ``html_table`` is taught in notebook 04_dataset and used in every
later chapter."""

import html


def html_table(rows, *, columns=None, floatfmt=".3f"):
    """Render a list of dicts as an HTML table; floats are formatted with ``floatfmt``.

    Taught in notebook 00_meet_the_ragas, and used in 6 later chapters.

    Examples
    --------
    >>> html_table([{"raga": "yaman", "acc": 0.9}]).startswith("<table")
    True
    """
    columns = columns or (list(rows[0]) if rows else [])

    def cell(value):
        return f"<td style='text-align:left'>{html.escape(_text(value, floatfmt))}</td>"

    head = "".join(f"<th style='text-align:left'>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(row.get(c, "")) for c in columns) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def text_table(rows, *, columns=None, floatfmt=".3f"):
    """The same rows as :func:`html_table`, as aligned plain text for the command line.

    Behind notebook 04_dataset (not called there by name).

    The first column is left-aligned, the others right-aligned; ``None`` prints as ``-``.
    ``floatfmt`` is one format for every float, or ``{column: format}`` (others ``.3f``).
    Taught by use: every table ``python -m ragalib report`` and ``bench`` print.

    Examples
    --------
    >>> print(text_table([{"raga": "yaman", "acc": 0.9}, {"raga": "kafi", "acc": 0.75}]))
    raga    acc
    yaman 0.900
    kafi  0.750
    """
    columns = columns or (list(rows[0]) if rows else [])
    formats = floatfmt if isinstance(floatfmt, dict) else dict.fromkeys(columns, floatfmt)
    cells = [[_text(row.get(c, ""), formats.get(c, ".3f")) for c in columns] for row in rows]
    widths = [max(len(str(c)), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [[str(c) for c in columns], *cells]
    return "\n".join(" ".join(text.ljust(w) if i == 0 else text.rjust(w)
                              for i, (text, w) in enumerate(zip(line, widths))).rstrip()
                     for line in lines)


def _text(value, floatfmt):
    if value is None:
        return "-"
    return format(value, floatfmt) if isinstance(value, float) else str(value)
