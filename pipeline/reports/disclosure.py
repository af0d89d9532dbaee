"""Small-number suppression for counts of people from the (anonymous) monitoring forms.

A count of 1 to threshold-1 people could point at someone ("Gypsy, Roma or Traveller: 1 of 3"
in a group of ten), so, as UK public bodies' statistical disclosure control does (ONS, NHS
England): such a count is shown as "fewer than 5", and no percentage is worked out from it
(primary suppression). A hidden count must not be recoverable by subtraction either: where a
question's total is shown and only one of its answers is hidden, the next smallest answer is
hidden too (secondary suppression). A zero is shown (it points at nobody), except where fewer
than the threshold answered at all: then "none of them" tells about each of them, and no answer's
count is shown. Fewer monitoring forms than the threshold, and nothing of them is shown.

Every figure of monitoring answers shown anywhere (summary.html today) goes through
`suppress`; the threshold is the setting small_number_threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SECONDARY = "not shown"
SECONDARY_NOTE = "so that a small number cannot be worked out by subtraction from the total"


@dataclass(frozen=True)
class Shown:
    """One count as it may be shown: the number, or None when it is hidden, and the words for it."""

    count: int | None
    text: str

    @property
    def hidden(self) -> bool:
        return self.count is None


def fewer_than(threshold: int) -> str:
    return f"fewer than {threshold}"


def _primary(n: int, threshold: int) -> Shown:
    if 0 < n < threshold:
        return Shown(None, fewer_than(threshold))
    return Shown(n, f"{n:,}")


@dataclass(frozen=True)
class Question:
    """The answers to one question, suppressed: each answer's count and the total's."""

    answers: dict[str, Shown]
    total: Shown

    def share(self, answer: str) -> float | None:
        """The answer's percentage of the total, or None when either is hidden (or the total is 0)."""
        shown = self.answers[answer]
        if shown.hidden or self.total.hidden or not self.total.count:
            return None
        return 100 * shown.count / self.total.count


def suppress(counts: Mapping[str, int], threshold: int) -> Question:
    """The answers to one question (every answer, the unshown ones too: a count that can be worked
    out as the total less the others is as good as shown), with the total as their sum."""
    total = sum(counts.values())
    answers = {answer: _primary(n, threshold) for answer, n in counts.items()}
    total_shown = _primary(total, threshold)
    if total_shown.hidden:
        # so few answered that any figure, a 0 too ("none of them is..."), tells about each of them
        return Question({answer: Shown(None, SECONDARY) for answer in counts}, total_shown)
    hidden = [a for a, shown in answers.items() if shown.hidden]
    if not total_shown.hidden and len(hidden) == 1:
        # the total is at least the threshold and the hidden one below it: another answer is not 0
        others = [(n, a) for a, n in counts.items() if a != hidden[0] and n > 0]
        _, next_smallest = min(others)
        answers[next_smallest] = Shown(None, SECONDARY)
    return Question(answers, total_shown)
