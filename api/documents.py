"""Printed pages: the A4 daily briefing (one page for the area, one per area below it), the
public signboard hung at an enterprise's gate, and the public status page its QR code opens.
HTML laid out by WeasyPrint (PDF); a signboard's PNG is its PDF rendered by poppler's
pdftoppm. Nothing is fetched from elsewhere: pictures are inlined as data URIs."""

from __future__ import annotations

import base64
import subprocess
import tempfile
from datetime import date
from html import escape
from pathlib import Path

import segno
from weasyprint import HTML

from geo.briefing import AreaDay, Briefing
from geo.models import FlagColor
from geo.signboards import PublicBoard

FLAG_NAMES = {FlagColor.GREEN: "绿旗", FlagColor.YELLOW: "黄旗", FlagColor.RED: "红旗"}
FLAG_HEX = {FlagColor.GREEN: "#2e9e44", FlagColor.YELLOW: "#f2b705", FlagColor.RED: "#d62828"}
MISSING_LISTED = 40  # enterprises named per page as not registered; the rest are counted
SIGNBOARD_DPI = 100

_CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "Noto Sans CJK SC", sans-serif; font-size: 10pt; color: #111; }
h1 { font-size: 18pt; margin: 0 0 4mm; }
h2 { font-size: 12pt; margin: 4mm 0 2mm; }
section { page-break-after: always; }
section:last-child { page-break-after: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.3pt solid #999; padding: 1mm 1.2mm; text-align: right; font-size: 8.5pt; }
td { white-space: nowrap; }
th { font-weight: normal; background: #eee; }
th:first-child, td:first-child { text-align: left; }
img.chart { width: 100%; }
.muted { color: #555; }
"""


def _data_uri(media_type: str, body: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(body).decode()}"


def _change(now: int, before: int) -> str:
    return f"{now}（{now - before:+d}）"


def _row(day: AreaDay) -> str:
    flags, before = day.flags, day.previous
    cells = [
        escape(day.area["name"]),
        _change(flags.green, before.green),
        _change(flags.yellow, before.yellow),
        _change(flags.red, before.red),
        str(len(day.turned_red)),
        str(day.red_to_green),
        str(day.stale_signboards),
    ]
    if day.restricted is not None:
        found = day.restricted
        cells += [
            f"{found.health.reported}/{found.health.expected}",
            str(found.health.fever),
            str(found.health.isolated),
            f"{found.inspections.visited}/{found.inspections.due}",
            f"{found.quarantine.beds_occupied}/{found.quarantine.beds_total}",
        ]
    else:
        cells += ["—"] * 5
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


_HEADER = (
    "<tr><th>区域</th><th>绿旗</th><th>黄旗</th><th>红旗</th><th>新增红旗</th><th>红转绿</th>"
    "<th>牌子未更新</th><th>健康登记 已报/应报</th><th>发热</th><th>隔离</th>"
    "<th>巡查 已查/应查</th><th>隔离点床位 占用/总数</th></tr>"
)


def _area_page(day: AreaDay, date_text: str, chart_png: bytes, rows: list[AreaDay]) -> str:
    reds = "".join(f"<li>{escape(red.name)}：{escape(red.reason)}</li>" for red in day.turned_red)
    missing = ""
    if day.restricted is not None:
        names = [escape(name) for _, name in day.restricted.health.missing]
        listed = "、".join(names[:MISSING_LISTED])
        more = len(names) - MISSING_LISTED
        tail = f" 等 {len(names)} 家" if more > 0 else ""
        missing = f"<h2>今日未健康登记（{len(names)} 家）</h2><p>{listed or '无'}{tail}</p>"
        progress = day.restricted.inspections
        missing += f"<h2>巡查进度</h2><p>已查 {progress.visited} / 应查 {progress.due}</p>"
    return f"""<section>
<h1>{escape(day.area["name"])} 每日汇总 {date_text}</h1>
<img class="chart" src="{_data_uri("image/png", chart_png)}">
<table>{_HEADER}{"".join(_row(r) for r in rows)}</table>
<h2>新增红旗（{len(day.turned_red)}）</h2><ul>{reds or "<li>无</li>"}</ul>
{missing}
</section>"""


def briefing_pdf(found: Briefing, chart_png: bytes, child_charts: dict[int, bytes]) -> bytes:
    """A4: the area's page (its chart, every child's numbers), then one page per child."""
    when = found.day.isoformat()
    pages = [_area_page(found.area, when, chart_png, [*found.children, found.area])]
    pages += [
        _area_page(child, when, child_charts[child.area["id"]], [child]) for child in found.children
    ]
    html = f"<html><head><style>{_CSS}</style></head><body>{''.join(pages)}</body></html>"
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


_SIGNBOARD_CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: "Noto Sans CJK SC", sans-serif; text-align: center; color: #111; }
h1 { font-size: 30pt; margin: 8mm 0 4mm; }
.flag { font-size: 40pt; color: white; padding: 6mm; border-radius: 4mm; margin: 6mm 20mm; }
.line { font-size: 20pt; margin: 4mm 0; }
img.qr { width: 60mm; height: 60mm; margin-top: 8mm; }
.url { font-size: 10pt; color: #444; }
"""


def signboard_pdf(board: PublicBoard, status_url: str) -> bytes:
    """The board for the gate (挂牌公示): name, flag, staff returned of total, the masked
    epidemic-control contact, the last update, and a QR code to its public status page."""
    # Medium error correction and large modules: a printed board gets dirty and is read from afar.
    qr = segno.make(status_url, error="m").png_data_uri(scale=10, border=4)
    updated = board.updated_on.isoformat() if board.updated_on else "尚未更新"
    flag = f'style="background: {FLAG_HEX[board.flag_color]}"'
    html = f"""<html><head><style>{_SIGNBOARD_CSS}</style></head><body>
<div class="line">复工复产挂牌公示</div>
<h1>{escape(board.name)}</h1>
<div class="flag" {flag}>{FLAG_NAMES[board.flag_color]}</div>
<div class="line">员工返岗 {board.staff_returned} / {board.staff_total} 人</div>
<div class="line">防疫联系电话 {escape(board.contact or "未登记")}</div>
<div class="line">更新日期 {updated}</div>
<img class="qr" src="{qr}">
<div class="url">扫码查看最新状态 {escape(status_url)}</div>
</body></html>"""
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


def pdf_to_png(pdf: bytes, dpi: int = SIGNBOARD_DPI) -> bytes:
    """The first page of a PDF as PNG, by poppler's pdftoppm (Debian's poppler-utils)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "page.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(source), str(source)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return source.with_suffix(".pdf.png").read_bytes()


def status_page(board: PublicBoard, today: date) -> str:
    """The public status page of an enterprise: small, self-contained HTML (no assets)."""
    updated = board.updated_on.isoformat() if board.updated_on else "尚未更新"
    stale = board.updated_on != today
    note = "<p class='stale'>今日牌子尚未更新</p>" if stale else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(board.name)} · 复工状态</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "PingFang SC", sans-serif; margin: 0 auto;
       max-width: 32rem; padding: 1rem; color: #111; }}
.flag {{ color: white; font-size: 2rem; text-align: center; padding: 1rem; border-radius: .5rem;
        background: {FLAG_HEX[board.flag_color]}; }}
dt {{ color: #555; margin-top: .75rem; }} dd {{ margin: 0; font-size: 1.2rem; }}
.stale {{ color: #d62828; }}
</style></head><body>
<h1>{escape(board.name)}</h1>
<div class="flag">{FLAG_NAMES[board.flag_color]}</div>
<dl>
<dt>所在区域</dt><dd>{escape(board.area_name or "—")}</dd>
<dt>旗帜说明</dt><dd>{escape(board.flag_reason)}</dd>
<dt>员工返岗</dt><dd>{board.staff_returned} / {board.staff_total} 人</dd>
<dt>防疫联系电话</dt><dd>{escape(board.contact or "未登记")}</dd>
<dt>牌子更新日期</dt><dd>{updated}</dd>
</dl>{note}
</body></html>"""
