"""The daily summary chart (每日汇总一张图表) as a picture: flag counts per area over the last 14
days, stacked green/yellow/red, beside the day's health registration compliance. Officers paste
it into reports and chat groups: 1200×800, large type, so it reads on a phone too.

Chinese is set in Noto Sans CJK (Debian's fonts-noto-cjk); SVG text is drawn as paths, so the
picture looks the same where that font is missing.
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from geo.briefing import AreaDay, Trend
from geo.flag_counts import FlagCounts

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FAMILY = "Noto Sans CJK SC"
WIDTH_PX, HEIGHT_PX, DPI = 1200, 800, 100
COLORS = {"green": "#2e9e44", "yellow": "#f2b705", "red": "#d62828"}
LABELS = {"green": "绿旗", "yellow": "黄旗", "red": "红旗"}
FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class ChartData:
    area_name: str
    day: date
    trend: Trend  # oldest first, per child area
    today: list[AreaDay]  # each child area's day (with its restricted parts), for compliance
    total: AreaDay  # the area's own day


def _font() -> None:
    if FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
        if not CJK_FONT.exists():
            raise RuntimeError(f"{CJK_FONT} is missing: install Debian's fonts-noto-cjk")
        font_manager.fontManager.addfont(str(CJK_FONT))


def summary_chart(data: ChartData, fmt: str, width_px: int = WIDTH_PX) -> bytes:
    """The chart as PNG or SVG bytes, `width_px` wide (SVG: its width and height in px)."""
    scale = width_px / WIDTH_PX
    figure = Figure(figsize=(WIDTH_PX / DPI * scale, HEIGHT_PX / DPI * scale), dpi=DPI)
    out = io.BytesIO()
    # rcParams and the font list are process-wide: one drawing at a time (they take ~0.2-2 s).
    with _DRAWING, _style(scale):
        _font()
        _draw(figure, data)
        figure.savefig(out, format=fmt, dpi=DPI, metadata=_metadata(fmt))
    body = out.getvalue()
    if fmt == "svg":
        body = _svg_in_pixels(body, width_px, round(HEIGHT_PX * scale))
    return body


def _metadata(fmt: str) -> dict[str, str | None]:
    # No creation date: the same data gives the same bytes (and ETag-able answers).
    return {"Date": None} if fmt == "svg" else {"Software": None}


def _svg_in_pixels(svg: bytes, width_px: int, height_px: int) -> bytes:
    """matplotlib sizes SVGs in points (72 per inch); the chart is stated in pixels."""
    head, sep, rest = svg.partition(b"<svg ")
    attrs, close, body = rest.partition(b">")
    parts = []
    for attr in attrs.split(b" "):
        if attr.startswith(b'width="'):
            attr = f'width="{width_px}"'.encode()
        elif attr.startswith(b'height="'):
            attr = f'height="{height_px}"'.encode()
        parts.append(attr)
    return head + sep + b" ".join(parts) + close + body


def _style(scale: float) -> Any:
    """rcParams for one drawing, restored after (matplotlib's settings are process-wide)."""
    return rc_context(
        {
            "font.family": FAMILY,
            "font.size": 11 * scale,
            "axes.titlesize": 13 * scale,
            "svg.fonttype": "path",
            "svg.hashsalt": "fugong",  # stable ids in the SVG
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def _draw(figure: Figure, data: ChartData) -> None:
    counts, before = data.total.flags, data.total.previous
    figure.suptitle(
        f"{data.area_name} 每日汇总 {data.day.isoformat()}   "
        f"绿 {counts.green}（{counts.green - before.green:+d}）  "
        f"黄 {counts.yellow}（{counts.yellow - before.yellow:+d}）  "
        f"红 {counts.red}（{counts.red - before.red:+d}）",
        fontsize=20 * figure.get_figwidth() / 12,
        fontweight="bold",
    )
    names = [name for name, _ in data.trend[-1][1]]
    cols = max(1, math.ceil(math.sqrt(len(names) * 1.6)))
    rows = max(1, math.ceil(len(names) / cols))
    outer = figure.add_gridspec(1, 2, width_ratios=(2.5, 1), left=0.04, right=0.98, wspace=0.2)
    grid = outer[0].subgridspec(rows, cols, hspace=0.55, wspace=0.35)
    for i, name in enumerate(names):
        axes = figure.add_subplot(grid[i // cols, i % cols])
        _trend(axes, name, [(day, dict(found)[name]) for day, found in data.trend])
    _compliance(figure.add_subplot(outer[1]), data.today)
    figure.legend(
        handles=[Patch(color=COLORS[c], label=LABELS[c]) for c in ("green", "yellow", "red")],
        loc="lower left",
        ncols=3,
        frameon=False,
        bbox_to_anchor=(0.04, 0.0),
    )
    figure.subplots_adjust(top=0.88, bottom=0.08)


def _trend(axes: Axes, name: str, days: list[tuple[date, FlagCounts]]) -> None:
    xs = range(len(days))
    bottom = [0] * len(days)
    for color in ("green", "yellow", "red"):
        heights = [getattr(counts, color) for _, counts in days]
        axes.bar(xs, heights, bottom=bottom, color=COLORS[color], width=0.85)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_title(name)
    axes.set_xticks([0, len(days) - 1], [_short(days[0][0]), _short(days[-1][0])])
    axes.tick_params(labelsize="small")
    axes.margins(x=0.02)


def _short(day: date) -> str:
    return f"{day.month}/{day.day}"


def _compliance(axes: Axes, areas: list[AreaDay]) -> None:
    """今日一日一登记: per area, the share of enterprises back at work that registered."""
    axes.set_title("今日健康登记（已报/应报）")
    names, shares, labels = [], [], []
    for area in areas:
        if area.restricted is None:
            continue
        found = area.restricted.health
        names.append(area.area["name"])
        shares.append(100 * found.reported / found.expected if found.expected else 100.0)
        labels.append(f"{found.reported}/{found.expected}")
    ys = range(len(names))
    colors = [COLORS["green"] if s >= 95 else COLORS["yellow"] if s >= 80 else COLORS["red"]
              for s in shares]  # fmt: skip
    axes.barh(ys, shares, color=colors)
    axes.set_yticks(ys, names)
    axes.invert_yaxis()
    axes.set_xlim(0, 125)
    axes.set_xticks([0, 50, 100], ["0", "50%", "100%"])
    for y, share, label in zip(ys, shares, labels, strict=True):
        axes.text(share + 2, y, label, va="center", fontsize="small")
