"""Pydantic models of the four forms: the value rules of FORMS.md (types, dates, money,
durations, options). Labels and required-ness live in the form specs (pipeline/forms/specs)."""

from schemas.evaluation import EvaluationForm
from schemas.monitoring import MonitoringForm
from schemas.planning import PlanningForm
from schemas.voucher import VoucherForm, VoucherLine

MODELS = {
    "planning": PlanningForm,
    "evaluation": EvaluationForm,
    "monitoring": MonitoringForm,
    "voucher": VoucherForm,
}

__all__ = ["MODELS", "PlanningForm", "EvaluationForm", "MonitoringForm", "VoucherForm", "VoucherLine"]
