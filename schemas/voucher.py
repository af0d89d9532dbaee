"""Appendix 4: Co-production Attendance and Voucher Collection."""

from decimal import Decimal
from functools import cached_property

from pydantic import BaseModel, ConfigDict, PrivateAttr

from pipeline.validate.names import claim_key
from schemas.types import Minutes, Money, PastDate, Signed, SingleLine


class VoucherLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_no: int
    name: SingleLine = None
    date: PastDate = None
    activity: SingleLine = None
    time_spent_minutes: Minutes = None
    amount: Money = None
    signed: Signed = False
    _location: str | None = PrivateAttr(default=None)

    @property
    def location(self) -> str | None:
        """Where the line is in the file (its table row or sheet row): not a value of the form."""
        return self._location

    def found_at(self, location: object | None) -> "VoucherLine":
        """This line, knowing where it was read (set by validation, which has the row)."""
        self._location = None if location is None else str(location)
        return self

    @cached_property
    def claim_key(self) -> str | None:
        """The claim this line makes (pipeline.validate.names.claim_key), worked out once: double
        claims are looked up, recorded and stored by it. Not a field, so not in the form's values.
        A line is not changed after validation (model_copy with an update would keep this key)."""
        return claim_key(self.name, self.date, self.activity)


class VoucherForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_name: SingleLine = None
    completed_by: SingleLine = None
    lines: list[VoucherLine] = []
    total: Money = None  # the sheet's own Total, when it has one

    @property
    def amount_sum(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.amount is not None), Decimal("0.00"))
