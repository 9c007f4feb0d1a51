"""Markdown matrix and JSON for a list of set reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from deploy.wheelgate.model import SetReport, State


def state_label(state: State, arch: str) -> str:
    if state is State.BINARY:
        return "ARM64 wheel" if arch == "aarch64" else f"{arch} wheel"
    return {
        State.PURE: "pure Python",
        State.SOURCE: "**source build required**",
        State.BLOCKER: "**blocker**",
    }[state]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(reports: Sequence[SetReport]) -> str:
    lines = ["# Wheel readiness", ""]
    for report in reports:
        arch = report.target.arch
        lines += [f"## `{report.requirements}`", "", f"Target: {report.target.describe()}."]
        if report.description:
            lines.append(f"{report.description}.")
        lines += [
            "",
            "| Package | Version | State | File | Failure mode | Detail |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        held = {h.name: h for h in report.held_back}
        for p in report.packages:
            detail = p.detail
            if p.name in held:
                detail = f"held back: {held[p.name].detail}"
            name = p.name if p.requested else f"{p.name} (dep)"
            lines.append(
                f"| {_cell(name)} | {p.version} | {state_label(p.state, arch)} | `{_cell(p.file)}` "
                f"| {', '.join(m.value for m in p.modes)} | {_cell(detail)} |"
            )
        lines += [
            "",
            (
                f"{len(report.packages)} packages: {report.count(State.PURE)} pure Python, "
                f"{report.count(State.BINARY)} {state_label(State.BINARY, arch)}, "
                f"{report.count(State.SOURCE)} source build, "
                f"{report.count(State.BLOCKER)} blocker; "
                f"{len(report.held_back)} held back by the glibc ceiling."
            ),
        ]
        for held_back in report.held_back:
            lines.append(
                f"- **Held back:** {held_back.name} {held_back.resolved} instead of "
                f"{held_back.newest} (`{held_back.newest_file}`): {held_back.detail}."
            )
        lines += [f"- Note: {note}" for note in report.notes]
        lines.append("")
    return "\n".join(lines)


def to_json(reports: Sequence[SetReport]) -> str:
    payload = []
    for report in reports:
        data = asdict(report)
        data["target"]["platform_tags"] = report.target.platform_tags()
        data["summary"] = {state.value: report.count(state) for state in State}
        payload.append(data)
    return json.dumps(payload, indent=2, default=str)
