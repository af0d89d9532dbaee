"""The anonymous co-production monitoring form. There is no name field, by design."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.types import PastDate, PostcodeDistrict, SingleLine, Text, single_choice

PNS = "Prefer not to say"
AgeBand = Literal[
    "Under 18", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85 or over", "Prefer not to say"
]
Gender = Literal["Woman", "Man", "Non-binary", "Prefer to self-describe", "Prefer not to say"]
YesNo = Literal["Yes", "No", "Prefer not to say"]
SexualOrientation = Literal["Heterosexual or straight", "Gay or lesbian", "Bisexual", "Other", "Prefer not to say"]
# The 19 categories of the 2021 Census for England and Wales (group -> categories).
ETHNIC_GROUPS: dict[str, tuple[str, ...]] = {
    "Asian or Asian British": ("Indian", "Pakistani", "Bangladeshi", "Chinese", "Any other Asian background"),
    "Black, Black British, Caribbean or African": (
        "Caribbean",
        "African",
        "Any other Black, Black British, or Caribbean background",
    ),
    "Mixed or Multiple ethnic groups": (
        "White and Black Caribbean",
        "White and Black African",
        "White and Asian",
        "Any other Mixed or Multiple ethnic background",
    ),
    "White": (
        "English, Welsh, Scottish, Northern Irish or British",
        "Irish",
        "Gypsy or Irish Traveller",
        "Roma",
        "Any other White background",
    ),
    "Other ethnic group": ("Arab", "Any other ethnic group"),
}
Ethnicity = Literal[
    "Indian",
    "Pakistani",
    "Bangladeshi",
    "Chinese",
    "Any other Asian background",
    "Caribbean",
    "African",
    "Any other Black, Black British, or Caribbean background",
    "White and Black Caribbean",
    "White and Black African",
    "White and Asian",
    "Any other Mixed or Multiple ethnic background",
    "English, Welsh, Scottish, Northern Irish or British",
    "Irish",
    "Gypsy or Irish Traveller",
    "Roma",
    "Any other White background",
    "Arab",
    "Any other ethnic group",
    "Prefer not to say",
]
Religion = Literal[
    "No religion", "Buddhist", "Christian", "Hindu", "Jewish", "Muslim", "Sikh", "Other", "Prefer not to say"
]
Circumstance = Literal[
    "Experiencing homelessness",
    "Refugee or asylum seeker",
    "Living with dementia",
    "English is not my first language",
    "None of these",
    "Prefer not to say",
]


def ethnic_group_of(ethnicity: str | None) -> str | None:
    for group, members in ETHNIC_GROUPS.items():
        if ethnicity in members:
            return group
    return None


class MonitoringForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_name: SingleLine = None
    date: PastDate = None
    age_band: single_choice(AgeBand) = None  # type: ignore[valid-type]
    gender: single_choice(Gender) = None  # type: ignore[valid-type]
    gender_self_description: Text = None
    trans: single_choice(YesNo) = None  # type: ignore[valid-type]
    sexual_orientation: single_choice(SexualOrientation) = None  # type: ignore[valid-type]
    ethnicity: single_choice(Ethnicity) = None  # type: ignore[valid-type]
    religion: single_choice(Religion) = None  # type: ignore[valid-type]
    disability: single_choice(YesNo) = None  # type: ignore[valid-type]
    carer: single_choice(YesNo) = None  # type: ignore[valid-type]
    circumstances: list[Circumstance] = []
    postcode_district: PostcodeDistrict = None

    @property
    def ethnic_group(self) -> str | None:
        return ethnic_group_of(self.ethnicity)
