"""Small HTML tables for notebooks (no pandas needed)."""

import html


def html_table(rows, *, columns=None, floatfmt=".3f"):
    """Render a list of dicts as an HTML table; floats are formatted with ``floatfmt``.

    Examples
    --------
    >>> html_table([{"raga": "yaman", "acc": 0.9}]).startswith("<table")
    True
    """
    columns = columns or (list(rows[0]) if rows else [])

    def cell(value):
        if value is None:
            text = "-"
        else:
            text = format(value, floatfmt) if isinstance(value, float) else str(value)
        return f"<td style='text-align:left'>{html.escape(text)}</td>"

    head = "".join(f"<th style='text-align:left'>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(row.get(c, "")) for c in columns) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
