"""A self-contained HTML review page.

Shows each file's *covered* image (a preview made after redaction, never the original)
with the covered regions outlined and labelled, flagged and failed files first, and
status filters.  Everything is inline: no external scripts, styles, fonts or images.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

from redact import __version__
from redact.config import Settings
from redact.policy import plan
from redact.report import narrowed, printable, summary
from redact.types import FileResult, Status

_ORDER = {Status.FAILED: 0, Status.FINDINGS: 2, Status.REDACTED: 3, Status.CLEAN: 4}
_COLOURS = {"face": "#e6194b", "text": "#f58231", "barcode": "#4363d8"}

_CSS = """
body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1d1f}
header{background:#1d2b3a;color:#fff;padding:16px 24px}
header h1{margin:0;font-size:20px}
nav{padding:12px 24px;display:flex;gap:8px;flex-wrap:wrap}
nav button{border:1px solid #99a;border-radius:16px;background:#fff;padding:4px 12px;cursor:pointer}
nav button.on{background:#1d2b3a;color:#fff}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:16px;padding:0 24px 24px}
article{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;padding:12px;overflow:hidden}
article h2{font-size:14px;margin:0 0 6px;word-break:break-all}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;color:#fff}
.failed{background:#b00020}.flagged{background:#8e24aa}.findings{background:#c77700}
.redacted{background:#00796b}.clean{background:#2e7d32}
svg{width:100%;height:auto;display:block;margin-top:8px;background:#ddd}
svg text{font:bold 14px sans-serif;paint-order:stroke;stroke:#fff;stroke-width:3px}
ul{margin:6px 0 0;padding-left:18px;font-size:13px}
.error{color:#b00020;font-weight:600}
.kept{color:#1b5e20;font-weight:600}
header .warn{background:#b00020;margin-top:6px;padding:4px 8px;border-radius:4px}
"""

_JS = """
function show(f){
 document.querySelectorAll('nav button').forEach(x=>x.classList.toggle('on',x.dataset.filter===f));
 document.querySelectorAll('article').forEach(a=>{a.hidden=!(f==='all'||a.dataset.status===f);});
}
document.querySelectorAll('nav button').forEach(b=>b.addEventListener('click',()=>{
 location.hash='filter='+b.dataset.filter; show(b.dataset.filter);
}));
const m=location.hash.match(/filter=(\\w+)/); show(m?m[1]:'all');
"""


def _status(result: FileResult) -> str:
    return "flagged" if result.flags and result.status is not Status.FAILED else str(result.status)


def _sort_key(result: FileResult) -> tuple[int, str]:
    rank = 1 if result.flags and result.status is not Status.FAILED else _ORDER[result.status]
    return rank, str(result.path)


def _figure(result: FileResult, settings: Settings) -> str:
    if result.preview is None or result.size is None:
        return ""
    width, height = result.size
    data = base64.b64encode(result.preview).decode()
    shapes = []
    stroke = max(2, round(max(width, height) / 300))
    # A video's findings come from many frames: its preview (the frame with the most covers)
    # is shown without outlines that would not line up.
    video = any(f.frame is not None for f in result.findings)
    for cover in [] if video else plan(result.findings, settings, width, height):
        finding = cover.finding
        assert finding is not None
        colour = _COLOURS.get(str(finding.kind), "#e6194b")
        x0, y0, x1, y1 = (round(v, 1) for v in cover.box.xyxy)
        label = html.escape(finding.label)
        shapes.append(
            f'<rect class="cover" data-label="{label}" x="{x0}" y="{y0}" width="{round(x1 - x0, 1)}" '
            f'height="{round(y1 - y0, 1)}" fill="none" stroke="{colour}" stroke-width="{stroke}"/>'
            f'<text x="{x0}" y="{max(14.0, y0 - 4)}" fill="{colour}" '
            f'font-size="{max(14, stroke * 7)}">{label}</text>'
        )
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="redacted image">'
        f'<image href="data:image/jpeg;base64,{data}" width="{width}" height="{height}"/>' + "".join(shapes) + "</svg>"
    )


def _article(result: FileResult, settings: Settings) -> str:
    status = _status(result)
    parts = [
        f'<article data-status="{status}">',
        f"<h2>{html.escape(str(result.path))}</h2>",
        f'<span class="badge {status}">{status}</span>',
    ]
    if result.status is Status.FAILED:
        parts.append(f'<p class="error">Not analysed: {html.escape(result.error or "failed")}. Treat as unsafe.</p>')
    items = [f"<li>Needs a person's review: {html.escape(flag.reason)}</li>" for flag in result.flags]
    counts = result.counts()
    if counts:
        found = ", ".join(f"{n} {html.escape(k)}{'s' if n != 1 else ''}" for k, n in sorted(counts.items()))
        verb = "covered in the output" if result.output is not None else "to cover (shown covered)"
        items.append(f"<li>{found} {verb}</li>")
    if result.kept:
        items.append(f'<li class="kept">{html.escape(result.kept_text())}</li>')
    if result.output is not None:
        items.append(f"<li>Output: {html.escape(str(result.output))}</li>")
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    parts.append(_figure(result, settings))
    parts.append("</article>")
    return "".join(parts)


def _stages(stages: Sequence[str]) -> str:
    warning = narrowed(stages)
    if warning:
        return f"<div class='warn'><strong>Warning:</strong> {html.escape(warning)}.</div>"
    return f"<div>Looked for: {html.escape(', '.join(stages))}.</div>"


def render(results: Sequence[FileResult], mode: str, exit_code: int, settings: Settings) -> str:
    """The whole page as a string."""
    counts = summary(results)
    flagged = sum(1 for r in results if r.flags and r.status is not Status.FAILED)
    filters = [("all", "All", counts["total"]), ("flagged", "Flagged", flagged)] + [
        (str(s), str(s).title(), counts[str(s)])
        for s in (Status.FAILED, Status.FINDINGS, Status.REDACTED, Status.CLEAN)
    ]
    buttons = "".join(
        f'<button data-filter="{key}" class="{"on" if key == "all" else ""}">{name} ({n})</button>'
        for key, name, n in filters
    )
    articles = "".join(_article(r, settings) for r in sorted(results, key=_sort_key))
    return printable(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        f"<title>redact {html.escape(mode)} review</title><style>{_CSS}</style></head><body>"
        f"<header><h1>redact {html.escape(mode)}: {counts['total']} files</h1>"
        f"<div>redact {__version__}; exit code {exit_code}. Images show redacted output only.</div>"
        f"{_stages(settings.stages)}</header>"
        f"<nav>{buttons}</nav><main>{articles}</main><script>{_JS}</script></body></html>"
    )
