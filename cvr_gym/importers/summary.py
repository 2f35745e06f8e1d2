"""The import summary as rich tables: per source kind, skipped records, grouped warnings."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.table import Table

from cvr_gym.importers.common import ImportReport, Problem


def _grouped(problems: list[Problem]) -> list[tuple[str, list[Problem]]]:
    groups: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        groups[p.code].append(p)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def print_summary(report: ImportReport, console: Console | None = None, max_rows: int = 30,
                  out: str | None = None) -> None:
    """Print what was imported, every skipped record with its reason (up to ``max_rows``), warnings."""
    console = console or Console()
    table = Table(title=f"Import of {report.source}")
    for col, justify in (("source kind", "left"), ("family", "left"), ("imported", "right"), ("skipped", "right")):
        table.add_column(col, justify=justify)
    for kind, (family, done, failed) in report.per_kind().items():
        table.add_row(kind, family, str(done), f"[red]{failed}[/red]" if failed else "0")
    table.add_row("[b]total[/b]", "", f"[b]{report.imported}[/b]", f"[b]{len(report.skipped)}[/b]")
    console.print(table)

    if report.skipped:
        skipped = Table(title="Skipped records (not imported)")
        for col in ("record", "kind", "reason"):
            skipped.add_column(col, overflow="fold")
        for p in report.skipped[:max_rows]:
            skipped.add_row(p.where, p.kind, p.message)
        if len(report.skipped) > max_rows:
            skipped.add_row(f"... {len(report.skipped) - max_rows} more", "", "(see --report for all)")
        console.print(skipped)
        reasons = Table(title="Skip reasons")
        for col, justify in (("reason", "left"), ("records", "right"), ("example", "left")):
            reasons.add_column(col, justify=justify, overflow="fold")
        for code, group in _grouped(report.skipped):
            reasons.add_row(code, str(len(group)), f"{group[0].where}: {group[0].message}")
        console.print(reasons)

    if report.warnings:
        warn = Table(title="Warnings (imported, but read this)")
        for col, justify in (("warning", "left"), ("records", "right"), ("example", "left")):
            warn.add_column(col, justify=justify, overflow="fold")
        for code, group in _grouped(report.warnings):
            warn.add_row(code, str(len(group)), f"{group[0].where}: {group[0].message}")
        console.print(warn)
    for note in report.notes:
        console.print(f"[dim]note: {note}[/dim]")
    if out and report.imported:
        console.print(f"Wrote {report.imported} task(s) to {out}")
    elif not report.imported:
        console.print("[red]Nothing was imported; no file written.[/red]")
