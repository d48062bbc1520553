"""Tables of the throughput run: printed, written into BENCHMARKS.md's Throughput section, and
p50 of (a) against table size as a CSV (and a PNG when matplotlib is installed)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from bench.load import Result

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
SERVERS = ("fugong", "raw", "postgraphile")
HEADING = "## Throughput"

# results[size][scenario title][server]: a Result, or a string saying why there is none
Results = dict[int, dict[str, dict[str, Result | str]]]


def table(rows: dict[str, Result | str]) -> list[str]:
    lines = ["| server | req/s | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|"]
    for server in SERVERS:
        found = rows.get(server, "not run")
        if isinstance(found, Result):
            lines.append(
                f"| {server} | {found.requests_per_s:.1f} | {found.p50_ms:.1f} | "
                f"{found.p99_ms:.1f} | {found.errors} |"
            )
        else:
            lines.append(f"| {server} | – | – | – | {found} |")
    return lines


def ratios(rows: dict[str, Result | str]) -> str:
    fugong = rows.get("fugong")
    if not isinstance(fugong, Result):
        return "ratios: –"
    parts = []
    for other in ("raw", "postgraphile"):
        found = rows.get(other)
        if isinstance(found, Result) and found.requests_per_s > 0:
            parts.append(f"fugong/{other} {fugong.requests_per_s / found.requests_per_s:.2f}×")
        else:
            parts.append(f"fugong/{other} –")
    return "req/s ratios: " + ", ".join(parts)


def markdown(results: Results) -> list[str]:
    lines: list[str] = []
    for size, scenarios in results.items():
        lines += [f"### {size:,} enterprises", ""]
        for title, rows in scenarios.items():
            lines += [f"**{title}**", "", *table(rows), "", ratios(rows), ""]
    return lines


def write_section(body: list[str]) -> None:
    """Replace (or append) the Throughput section, leaving every other section as it was."""
    text = BENCHMARKS.read_text(encoding="utf-8")
    section = "\n".join([HEADING, "", *body]).rstrip() + "\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    BENCHMARKS.write_text(text, encoding="utf-8")


def latency_by_size(results: Results, scenario_prefix: str, out: Path) -> list[Path]:
    """p50 of one scenario against table size: a CSV always, a PNG if matplotlib is there."""
    rows = []
    for size, scenarios in results.items():
        for title, servers in scenarios.items():
            if title.startswith(scenario_prefix):
                for server, found in servers.items():
                    if isinstance(found, Result):
                        rows.append(
                            (size, server, found.p50_ms, found.p99_ms, found.requests_per_s)
                        )
    csv_path = out.with_suffix(".csv")
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["enterprises", "server", "p50_ms", "p99_ms", "requests_per_s"])
        writer.writerows(rows)
    written = [csv_path]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return written
    figure, axes = plt.subplots(figsize=(6, 4))
    for server in SERVERS:
        points = sorted((size, p50) for size, name, p50, _, _ in rows if name == server)
        if points:
            axes.plot(*zip(*points, strict=True), marker="o", label=server)
    axes.set_xscale("log")
    axes.set_xlabel("enterprises")
    axes.set_ylabel("p50 latency, ms")
    axes.set_title(f"{scenario_prefix}: p50 against table size")
    axes.legend()
    figure.tight_layout()
    png_path = out.with_suffix(".png")
    figure.savefig(png_path, dpi=100)
    written.append(png_path)
    return written
