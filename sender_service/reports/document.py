"""A tiny report document rendered both as Markdown and as self-contained HTML."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    callout: bool = False


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Image:
    filename: str
    alt: str


Block = Heading | Paragraph | Bullets | Table | Image


@dataclass
class Document:
    title: str
    subtitle: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document) -> str:
    out = [f"# {doc.title}", "", f"_{doc.subtitle}_", ""]
    for block in doc.blocks:
        if isinstance(block, Heading):
            out += [f"## {block.text}", ""]
        elif isinstance(block, Paragraph):
            out += [f"> **{block.text}**" if block.callout else block.text, ""]
        elif isinstance(block, Bullets):
            out += [f"- {item}" for item in block.items] + [""]
        elif isinstance(block, Table):
            out.append("| " + " | ".join(_md_cell(h) for h in block.headers) + " |")
            out.append("|" + "---|" * len(block.headers))
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("")
        else:
            out += [f"![{block.alt}]({block.filename})", ""]
    return "\n".join(out)


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2933;
max-width:980px;margin:2rem auto;padding:0 1rem;line-height:1.5}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #e4e7eb;padding-bottom:.3rem}
.subtitle{color:#52606d;margin-top:0}
table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem}
th,td{padding:.35rem .7rem;border-bottom:1px solid #e4e7eb;text-align:left}
th{background:#f5f7fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto;margin:.6rem 0}
.callout{background:#fff8e6;border-left:4px solid #f0a13a;padding:.6rem .9rem;font-weight:600}
"""


def _is_number(text: str) -> bool:
    stripped = text.replace(",", "").replace("%", "").replace("+", "").replace("−", "-").strip()
    try:
        float(stripped)
    except ValueError:
        return False
    return True


def to_html(doc: Document, images: Mapping[str, bytes]) -> str:
    """One file: the PNGs are embedded as base64 data URIs, the style inline."""
    e = html.escape
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(doc.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(doc.title)}</h1>",
        f'<p class="subtitle">{e(doc.subtitle)}</p>',
    ]
    for block in doc.blocks:
        if isinstance(block, Heading):
            out.append(f"<h2>{e(block.text)}</h2>")
        elif isinstance(block, Paragraph):
            css = ' class="callout"' if block.callout else ""
            out.append(f"<p{css}>{e(block.text)}</p>")
        elif isinstance(block, Bullets):
            out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{e(h)}</th>" for h in block.headers)
            body = "".join(
                "<tr>"
                + "".join(
                    f'<td class="num">{e(c)}</td>' if _is_number(c) else f"<td>{e(c)}</td>"
                    for c in row
                )
                + "</tr>"
                for row in block.rows
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            data = base64.b64encode(images[block.filename]).decode()
            out.append(f'<img src="data:image/png;base64,{data}" alt="{e(block.alt)}">')
    out.append("</body></html>")
    return "\n".join(out)
