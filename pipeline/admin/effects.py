"""What an admin action changes, in the words the admin and finance use.

An action is previewed (`--dry-run`) and reported afterwards the same way: the warehouse is read
before and after the change inside the action's transaction (pipeline.admin.actions), and the
difference described: each submission's status, the exceptions resolved or reopened, and the
pounds that move in or out of finance's totals. The totals are read with the queries behind
voucher_reconciliation.xlsx, so the preview and the report cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pipeline.forms.where import where_in_words
from pipeline.reports import queries
from pipeline.store.warehouse import Warehouse

SHOWN_PROBLEMS = 10  # exceptions listed one by one; more are counted


@dataclass(frozen=True)
class FinanceTotals:
    """The figures of voucher_reconciliation.xlsx an action can move."""

    pounds_loaded: Decimal  # claimed on loaded voucher forms (the control total)
    pounds_held: Decimal  # on held voucher forms, waiting
    claims: int  # loaded lines with a name, date and amount: what the reconciliation matches
    pounds_claimed: Decimal


@dataclass(frozen=True)
class Snapshot:
    statuses: dict[int, tuple[str, int | None]]  # submission -> (status, superseded_by)
    open_problems: dict[tuple[int, int], str]  # (submission, problem_no) -> what and where
    finance: FinanceTotals


def _finance(warehouse: Warehouse) -> FinanceTotals:
    totals = queries.voucher_control_totals(warehouse)
    claims = queries.claimed_lines(warehouse)
    return FinanceTotals(
        Decimal(totals.pounds_loaded),
        Decimal(totals.pounds_held),
        len(claims),
        sum((Decimal(row.amount) for row in claims), Decimal("0.00")),
    )


def snapshot(warehouse: Warehouse, submission_ids: list[int]) -> Snapshot:
    """The state an action on these submissions may change."""
    ids = sorted(set(submission_ids))
    statuses = {
        sid: (status, by)
        for sid, status, by in warehouse.rows(
            "SELECT submission_id, status, superseded_by FROM store.submissions WHERE submission_id IN :ids", ids=ids
        )
    }
    problems = {
        (sid, no): f"{code} ({where_in_words(form_type, field, location)})"
        for sid, no, code, field, location, form_type in warehouse.rows(
            "SELECT p.submission_id, p.problem_no, p.code, p.field, p.location, s.form_type "
            "FROM store.problems p JOIN store.submissions s USING (submission_id) "
            "WHERE p.submission_id IN :ids AND p.state = 'open'",
            ids=ids,
        )
    }
    return Snapshot(statuses, problems, _finance(warehouse))


def pounds(amount: Decimal) -> str:
    return f"£{amount:,.2f}"


def _signed_pounds(change: Decimal) -> str:
    return f"{pounds(change)} in" if change > 0 else f"{pounds(-change)} out"


@dataclass(frozen=True)
class Effect:
    before: Snapshot
    after: Snapshot

    def status_changes(self) -> dict[int, tuple[str, str]]:
        """Submission -> (status before, status after), for those whose status changed."""
        return {
            sid: (self.before.statuses[sid][0], after[0])
            for sid, after in self.after.statuses.items()
            if self.before.statuses[sid][0] != after[0]
        }

    def resolved(self) -> list[tuple[int, int]]:
        return sorted(self.before.open_problems.keys() - self.after.open_problems.keys())

    def reopened(self) -> list[tuple[int, int]]:
        return sorted(self.after.open_problems.keys() - self.before.open_problems.keys())

    def pounds_loaded_change(self) -> Decimal:
        return self.after.finance.pounds_loaded - self.before.finance.pounds_loaded

    def describe(self) -> list[str]:
        """Plain lines for the admin (and finance): statuses, exceptions, pounds."""
        lines = []
        for sid, (status, by) in sorted(self.after.statuses.items()):
            old = self.before.statuses[sid][0]
            now = f"{status} (replaced by {by})" if status == "superseded" and by else status
            lines.append(
                f"Submission {sid}: {old} -> {now}" if old != status else f"Submission {sid}: {now}, unchanged"
            )
        for label, keys, problems in (
            ("resolved", self.resolved(), self.before.open_problems),
            ("reopened", self.reopened(), self.after.open_problems),
        ):
            if keys:
                lines.append(f"Exceptions {label}: {len(keys)}")
                lines.extend(f"  submission {sid}: {problems[(sid, no)]}" for sid, no in keys[:SHOWN_PROBLEMS])
                if len(keys) > SHOWN_PROBLEMS:
                    lines.append(f"  and {len(keys) - SHOWN_PROBLEMS} more")
        lines.extend(self._finance_lines())
        return lines

    def _finance_lines(self) -> list[str]:
        before, after = self.before.finance, self.after.finance
        if before == after:
            return [f"Finance's totals: unchanged ({pounds(after.pounds_loaded)} claimed on loaded voucher forms)"]
        lines = []
        for label, old, new in (
            ("Claimed on loaded voucher forms", before.pounds_loaded, after.pounds_loaded),
            ("On held voucher forms", before.pounds_held, after.pounds_held),
        ):
            if old != new:
                lines.append(f"{label}: {pounds(old)} -> {pounds(new)} ({_signed_pounds(new - old)})")
        if (before.claims, before.pounds_claimed) != (after.claims, after.pounds_claimed):
            lines.append(
                f"Lines the reconciliation counts: {before.claims} ({pounds(before.pounds_claimed)}) -> "
                f"{after.claims} ({pounds(after.pounds_claimed)})"
            )
        return lines
