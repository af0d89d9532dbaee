"""Appendix 2: Co-production and Engagement Project Planning Template."""

from pydantic import BaseModel, ConfigDict

from schemas.types import NameList, PastDate, SingleLine, Text


class PlanningForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_name: SingleLine = None
    date: PastDate = None
    project_leads: NameList = []
    residents_involved: Text = None
    purpose_and_objectives: Text = None
    stakeholders: Text = None
    coproduction_approach: Text = None
    communication: Text = None
    resources_and_support: Text = None
    timelines_and_milestones: Text = None
    monitoring_and_evaluation: Text = None
    further_involvement: Text = None
