"""The API's input models: every request body is an `Input`, which applies the input boundary to every
field it declares, so a new field is bounded without anyone remembering to.

Text is a single line unless its field is marked `MULTI_LINE` (`Text`); integers fit the database's
columns; days are `YYYY-MM-DD` within the recorded range; unknown fields are refused.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from ..boundary import DAY_EXPECTED, leaves, parse_day, value_problem


class MultiLine:
    """Marks a text field that may hold line breaks and tabs (a description, a justification)."""

    def __repr__(self) -> str:
        return "MULTI_LINE"


MULTI_LINE = MultiLine()
Text = Annotated[str, MULTI_LINE]
Facts = Annotated[dict[str, Any], MULTI_LINE]  # a free-form object whose text values may span lines


class Input(BaseModel):
    """A request body: names every field it accepts, and bounds every value in it (see the module)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _days_are_iso(cls, value: Any, info: ValidationInfo) -> Any:
        """A day is `YYYY-MM-DD`: pydantic would also read 0 or a Unix timestamp as a day."""
        if value is None or info.field_name is None or not _holds_days(cls.model_fields[info.field_name].annotation):
            return value
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if not isinstance(value, str) or parse_day(value) is None:
            raise ValueError(DAY_EXPECTED)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _within_bounds(cls, value: Any, info: ValidationInfo) -> Any:
        """Every string, integer and day in the field, however nested, is within the boundary."""
        field = cls.model_fields[info.field_name] if info.field_name is not None else None
        multi_line = field is not None and (
            any(isinstance(meta, MultiLine) for meta in field.metadata) or _marked_multi_line(field.annotation)
        )
        for leaf in leaves(value):  # nested input models are leaves here: they check themselves
            problem = value_problem(leaf, multi_line=multi_line)
            if problem:
                raise ValueError(problem)
        return value


def _marked_multi_line(annotation: Any) -> bool:
    """Whether a field's type is marked MULTI_LINE, also inside an optional (`Text | None`)."""
    if typing.get_origin(annotation) is typing.Annotated:
        return any(isinstance(meta, MultiLine) for meta in typing.get_args(annotation)[1:])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_marked_multi_line(arg) for arg in typing.get_args(annotation))
    return False


def _holds_days(annotation: Any) -> bool:
    """Whether a field's type is a day or an optional day."""
    if annotation is date:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        return any(_holds_days(arg) for arg in typing.get_args(annotation))
    return False
