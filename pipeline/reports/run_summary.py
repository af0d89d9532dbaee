"""The end-of-run summary, as terminal text and as markdown for the Prefect run page."""

from __future__ import annotations

from collections import Counter

from pipeline.records import RunSummary


def summary_lines(summary: RunSummary) -> list[tuple[str, str]]:
    return [
        ("Files taken from the inbox", str(summary.files)),
        ("Forms received", str(summary.received)),
        ("Loaded", str(summary.count("loaded"))),
        ("Held (errors to correct)", str(summary.count("held"))),
        ("Rejected (could not be read)", str(summary.count("rejected"))),
        ("Duplicates (sent before)", str(summary.count("duplicate"))),
        ("Warnings", str(summary.warnings)),
        ("£ loaded", f"£{summary.pounds_loaded:,.2f}"),
    ]


def problem_counts(summary: RunSummary) -> Counter:
    return Counter(p.code.value for o in summary.outcomes for p in o.problems)


def summary_markdown(summary: RunSummary, reports: list[str]) -> str:
    lines = ["# Co-production forms run", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary_lines(summary)]
    counts = problem_counts(summary)
    if counts:
        lines += ["", "## Problems by code", "", "| code | count |", "|---|---|"]
        lines += [f"| {code} | {n} |" for code, n in counts.most_common()]
    lines += ["", "Reports: " + ", ".join(f"`{r}`" for r in reports)]
    return "\n".join(lines)
