"""Building blocks of self-contained HTML: escaped tables, embedded images, the page shell.

Images are embedded as base64 ``data:`` URIs and the style sheet is inline, so a page needs
no other file and no network.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:2em}h3{margin-top:1.4em}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
td,th{border:1px solid #d0d0d0;padding:3px 7px;vertical-align:top;text-align:left}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.fail td{background:#fdecea}tr.pass td:last-child{color:#1a7f37}
img{max-width:100%;height:auto;border:1px solid #eee}img.wide{max-width:none;height:420px}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}
details{margin:.6em 0}summary{cursor:pointer;font-weight:600}
.meta{color:#666;font-size:.9em}.note{color:#555;font-style:italic}
.scroll{overflow-x:auto}
"""


def esc(value: Any) -> str:
    """HTML-escaped text of any value (``None`` → empty)."""
    return "" if value is None else html.escape(str(value))


def fmt_value(value: Any) -> str:
    """Numbers to 4 significant digits; other values as text."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        return f"{value:.4g}"
    return str(value)


def table(head: Sequence[str], rows: Iterable[Sequence[Any]],
          row_classes: Sequence[str] | None = None) -> str:
    """An HTML table; numeric cells right-aligned and formatted to 4 significant digits."""
    h = "".join(f"<th>{esc(c)}</th>" for c in head)
    body = []
    for i, row in enumerate(rows):
        cls = f" class='{esc(row_classes[i])}'" if row_classes else ""
        cells = "".join(
            f"<td class='num'>{esc(fmt_value(c))}</td>" if isinstance(c, int | float)
            and not isinstance(c, bool) else f"<td>{esc(fmt_value(c))}</td>" for c in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return (f"<div class='scroll'><table><thead><tr>{h}</tr></thead><tbody>{''.join(body)}"
            "</tbody></table></div>")


def kv_table(rows: Iterable[Sequence[Any]]) -> str:
    """A two-column table of labels and values (no header row)."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(fmt_value(v))}</td></tr>" for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"


def png_data_uri(data: bytes) -> str:
    """A data URI of PNG (or, recognised by its content, SVG) bytes."""
    mime = "image/svg+xml" if data.lstrip()[:5] in (b"<?xml", b"<svg ") else "image/png"
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def img(source: str | Path | bytes, alt: str, wide: bool = False) -> str:
    """An ``<img>`` with the PNG (a path or bytes) embedded; ``wide`` images keep a
    readable height and scroll sideways."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    tag = f"<img src='{png_data_uri(data)}' alt='{esc(alt)}'{' class=wide' if wide else ''}>"
    return f"<div class='scroll'>{tag}</div>" if wide else tag


def figure_png(fig, dpi: int = 150) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def page(title: str, body: str) -> str:
    """A complete HTML document with the inline style sheet."""
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>{body}</body></html>")
