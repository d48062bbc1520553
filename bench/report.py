"""Tables of the throughput run: printed, written into BENCHMARKS.md's Throughput section, and
p50 of every scenario against table size as a CSV and a PNG (matplotlib: `pip install .[bench]`)."""

from __future__ import annotations

import csv
import re
import textwrap
from pathlib import Path
from typing import Any

from bench.load import Result

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
SERVERS = ("fugong", "raw", "postgraphile", "tipg")
HEADING = "## Throughput"

# results[size][scenario title][server]: a Result, or a string saying why there is none
Results = dict[int, dict[str, dict[str, Result | str]]]
# remarks[size][scenario title]: a line printed under the scenario's table ("": under the size's
# heading)
Remarks = dict[int, dict[str, str]]
# memory[size][pid]: RSS in MB of each fugong worker after the size's scenarios
Memory = dict[int, dict[int, float]]


def table(rows: dict[str, Result | str], servers: tuple[str, ...] = SERVERS) -> list[str]:
    """One line per server that has an equivalent (fugong and raw always)."""
    lines = [
        "| server | req/s | p50 ms | p99 ms | errors | bytes |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for server in servers:
        found = rows.get(server)
        if found is None:
            continue
        if isinstance(found, Result):
            size = "–" if found.body_bytes is None else f"{found.body_bytes:,}"
            lines.append(
                f"| {server} | {found.requests_per_s:.1f} | {found.p50_ms:.1f} | "
                f"{found.p99_ms:.1f} | {found.errors} | {size} |"
            )
        elif server == "raw" or found != "no equivalent":
            lines.append(f"| {server} | – | – | – | {found} | – |")
    return lines


def ratios(rows: dict[str, Result | str], others: tuple[str, ...] = SERVERS[1:]) -> str:
    fugong = rows.get("fugong")
    if not isinstance(fugong, Result):
        return "req/s ratios: –"
    parts = []
    for other in others:
        found = rows.get(other)
        if isinstance(found, Result) and found.requests_per_s > 0:
            parts.append(f"fugong/{other} {fugong.requests_per_s / found.requests_per_s:.2f}×")
        elif other == "raw" or found not in (None, "no equivalent"):
            parts.append(f"fugong/{other} –")
    return "req/s ratios: " + ", ".join(parts)


def megabytes(rss: dict[int, float]) -> str:
    return ", ".join(f"{mb:.0f} MB" for _, mb in sorted(rss.items())) or "not read"


def markdown(results: Results, remarks: Remarks, memory: Memory | None = None) -> list[str]:
    lines: list[str] = []
    for size, scenarios in results.items():
        lines += [f"### {size:,} enterprises", ""]
        if memory and size in memory:
            lines += [
                f"RSS of each fugong worker after this size's scenarios: "
                f"{megabytes(memory[size])}.",
                "",
            ]
        if remarks.get(size, {}).get(""):
            lines += [remarks[size][""], ""]
        for title, rows in scenarios.items():
            lines += [f"**{title}**", "", *table(rows), "", ratios(rows), ""]
            if title in remarks.get(size, {}):
                lines += [remarks[size][title], ""]
    return lines


def write_section(body: list[str], heading: str = HEADING) -> None:
    """Replace (or append) the section under `heading`, leaving every other one as it was."""
    text = BENCHMARKS.read_text(encoding="utf-8")
    section = "\n".join([heading, "", *body]).rstrip() + "\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    BENCHMARKS.write_text(text, encoding="utf-8")


def latency_by_size(results: Results, out: Path) -> list[Path]:
    """p50 of every scenario against table size: a CSV always, and a PNG of one panel per
    scenario (one line per server, log axes) if matplotlib is there."""
    rows = [
        (size, title, server, found.p50_ms, found.p99_ms, found.requests_per_s)
        for size, scenarios in results.items()
        for title, servers in scenarios.items()
        for server, found in servers.items()
        if isinstance(found, Result)
    ]
    csv_path = out.with_suffix(".csv")
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["enterprises", "scenario", "server", "p50_ms", "p99_ms", "requests_per_s"])
        writer.writerows(rows)
    written = [csv_path]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
    except ImportError:
        return written
    titles = list(dict.fromkeys(title for _, title, *_ in rows))
    if not titles:
        return written
    columns = min(3, len(titles))
    lines = -(-len(titles) // columns)
    figure, panels = plt.subplots(
        lines, columns, figsize=(4.6 * columns, 3.2 * lines), squeeze=False
    )
    lines_of: dict[str, Any] = {}
    for axes, title in zip(panels.flat, titles, strict=False):
        for colour, server in enumerate(SERVERS):
            points = sorted(
                (size, p50) for size, t, name, p50, *_ in rows if (t, name) == (title, server)
            )
            if points:
                (lines_of[server],) = axes.plot(
                    *zip(*points, strict=True), marker="o", color=f"C{colour}"
                )
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(sorted(results), [f"{size:,}" for size in sorted(results)])
        axes.xaxis.set_minor_locator(NullLocator())
        axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes.yaxis.set_minor_locator(NullLocator())
        axes.set_title(textwrap.fill(title, 48), fontsize=8)
        axes.set_xlabel("enterprises", fontsize=8)
        axes.set_ylabel("p50, ms", fontsize=8)
        axes.tick_params(labelsize=7)
        axes.grid(True, alpha=0.3)
    for axes in panels.flat[len(titles) :]:
        axes.set_visible(False)
    figure.suptitle("p50 latency against table size (log axes)")
    figure.legend(list(lines_of.values()), list(lines_of), loc="upper right", fontsize=8)
    figure.tight_layout(rect=(0, 0, 0.92, 1))
    png_path = out.with_suffix(".png")
    figure.savefig(png_path, dpi=100)
    plt.close(figure)
    written.append(png_path)
    return written
