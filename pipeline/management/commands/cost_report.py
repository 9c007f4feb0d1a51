"""`manage.py cost_report`: what the pipeline spent and saved, from recorded data.

    manage.py cost_report                  # a table
    manage.py cost_report --format json    # the same figures for scripts
    manage.py cost_report --format csv

The figures come from `pipeline.selectors.cost_report_get`, which the admin dashboard shows too.
"""

from __future__ import annotations

import csv
import json
from dataclasses import fields
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pipeline.costs import CostReport
from pipeline.selectors import cost_report_get

Row = tuple[str, str, float | int | None, str]


def _price_rows(report: CostReport) -> list[Row]:
    return [
        ("price", f.name, getattr(report.prices, f.name), "USD") for f in fields(report.prices)
    ] + [
        ("deployment", f.name, getattr(report.deployment, f.name), "")
        for f in fields(report.deployment)
    ]


def _shown(value: float | int | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    if unit == "USD":
        return f"{value:,.6f}" if abs(value) < 1 else f"{value:,.2f}"
    return f"{value:,.4f}"


class Command(BaseCommand):
    help = "Report what the pipeline spent and saved (GPU, Lambda/ECS on arm64, gateway endpoints)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        report = cost_report_get()
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        elif options["format"] == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(["section", "figure", "value", "unit"])
            for section, figure, value, unit in report.rows() + _price_rows(report):
                writer.writerow([section, figure, "" if value is None else value, unit])
        else:
            self._table(report)

    def _table(self, report: CostReport) -> None:
        rows = report.rows()
        width = max(len(figure) for _, figure, _, _ in rows)
        section = ""
        for row_section, figure, value, unit in rows:
            if row_section != section:
                section = row_section
                self.stdout.write(f"\n[{section}]")
            shown = _shown(value, unit)
            self.stdout.write(f"  {figure.ljust(width)}  {shown.rjust(16)} {unit}")
        self.stdout.write(
            f"\nPrices (USD; AWS on-demand us-east-1 defaults as of {report.prices_as_of}, "
            "settings override them) and deployment sizes:"
        )
        for _, name, value, unit in _price_rows(report):
            shown = (
                f"{value:.10f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
            )
            self.stdout.write(f"  {name.ljust(width)}  {shown!s:>16} {unit}")
        self.stdout.write("\nAssumptions:")
        for note in report.assumptions:
            self.stdout.write(f"  - {note}")
