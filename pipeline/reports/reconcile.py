"""Vouchers claimed on the forms against vouchers finance issued, and the 12-month check.

Pure functions on Decimal amounts (no float, no I/O): the report module feeds them rows from
the warehouse and the ledger.

Matching: a claimed line and a ledger entry match when the recipient's name is the same person
(pipeline.validate.names.person_key: case, spaces, punctuation, invisible characters and look-alike
letters ignored), the amount is the same to the penny, and the dates are
at most `window_days` apart. Each line and each entry is used once; among the candidates the
closest dates are paired first (ties: earliest date, then form order, then ledger row), so two
vouchers for one person on one day pair with two ledger entries, one each.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from pipeline.reports.ledger import LedgerEntry
from pipeline.validate.names import person_key

ZERO = Decimal("0.00")


class Claim(NamedTuple):  # a named tuple: made for every loaded line each run, it is made quickly
    submission_id: int
    line_no: int
    name: str
    date: dt.date
    amount: Decimal
    activity: str | None
    source_file: str


@dataclass(frozen=True)
class Matching:
    pairs: list[tuple[Claim, LedgerEntry]]
    unmatched_claims: list[Claim]
    unmatched_entries: list[LedgerEntry]


def person(name: str) -> str:
    return person_key(name)


def match(claims: list[Claim], entries: list[LedgerEntry], window_days: int) -> Matching:
    by_key: dict[tuple[str, Decimal], tuple[list[Claim], list[LedgerEntry]]] = defaultdict(lambda: ([], []))
    for claim in claims:
        by_key[(person(claim.name), claim.amount)][0].append(claim)
    for entry in entries:
        by_key[(person(entry.recipient), entry.amount)][1].append(entry)
    pairs: list[tuple[Claim, LedgerEntry]] = []
    for group_claims, group_entries in by_key.values():
        candidates = sorted(
            (
                (abs((c.date - e.date).days), c.date, c.submission_id, c.line_no, e.row, i, j)
                for i, c in enumerate(group_claims)
                for j, e in enumerate(group_entries)
                if abs((c.date - e.date).days) <= window_days
            )
        )
        used_claims: set[int] = set()
        used_entries: set[int] = set()
        for *_, i, j in candidates:
            if i not in used_claims and j not in used_entries:
                used_claims.add(i)
                used_entries.add(j)
                pairs.append((group_claims[i], group_entries[j]))
    matched_claims = {id(c) for c, _ in pairs}
    matched_entries = {id(e) for _, e in pairs}
    pairs.sort(key=lambda p: (p[0].date, p[0].submission_id, p[0].line_no))
    return Matching(
        pairs,
        sorted((c for c in claims if id(c) not in matched_claims), key=lambda c: (c.date, c.submission_id, c.line_no)),
        sorted((e for e in entries if id(e) not in matched_entries), key=lambda e: (e.date, e.row)),
    )


def by_month(claims: list[Claim], entries: list[LedgerEntry]) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(month, claimed, issued, claimed - issued), every month either side has."""
    claimed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    issued: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for c in claims:
        claimed[c.date.strftime("%Y-%m")] += c.amount
    for e in entries:
        issued[e.date.strftime("%Y-%m")] += e.amount
    return [(m, claimed[m], issued[m], claimed[m] - issued[m]) for m in sorted(claimed.keys() | issued.keys())]


@dataclass(frozen=True)
class OverThreshold:
    name: str  # as first written (the earliest form and line), however later forms spell it
    total: Decimal  # the highest total in any 12 months
    window_start: dt.date
    window_end: dt.date
    lines: int


def over_threshold(
    claims: list[Claim], threshold: Decimal, today: dt.date | None = None, people: list[str] | None = None
) -> list[OverThreshold]:
    """Recipients whose vouchers in some 12 months (a date and the 364 days before it) add up to
    more than `threshold`: people on benefits must declare such payments. One person however
    her name is spelt (pipeline.validate.names.person_key; `people`: each claim's, where the
    caller has them already)."""
    per_person: dict[str, list[Claim]] = defaultdict(list)
    for c, key in zip(claims, people if people is not None else (person(c.name) for c in claims), strict=True):
        per_person[key].append(c)
    found = []
    for lines in per_person.values():
        if len(lines) == 1:  # most people, on most forms: their one line is their only window
            (claim,) = lines
            if claim.amount > threshold:
                found.append(OverThreshold(claim.name, claim.amount, claim.date, claim.date, 1))
            continue
        lines.sort(key=lambda c: c.date)
        best: tuple[Decimal, int, int] | None = None
        total, start = ZERO, 0
        for end, claim in enumerate(lines):
            total += claim.amount
            while lines[start].date <= claim.date - dt.timedelta(days=365):
                total -= lines[start].amount
                start += 1
            if best is None or total > best[0]:
                best = (total, start, end)
        if best and best[0] > threshold:
            total, start, end = best
            first_written = min(lines, key=lambda c: (c.submission_id, c.line_no)).name
            found.append(OverThreshold(first_written, total, lines[start].date, lines[end].date, end - start + 1))
    return sorted(found, key=lambda o: (-o.total, o.name))
