"""Appendix 4: Co-production Attendance and Voucher Collection."""

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

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


class VoucherForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_name: SingleLine = None
    completed_by: SingleLine = None
    lines: list[VoucherLine] = []
    total: Money = None  # the sheet's own Total, when it has one

    @property
    def amount_sum(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.amount is not None), Decimal("0.00"))
