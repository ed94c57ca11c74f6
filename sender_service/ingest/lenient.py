"""Field types for the readers' optional fields: a wrong type, null or absence never refuses
a delivery. Required fields (ids, the message itself) stay strict."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator


def as_text(value: Any) -> str | None:
    """A number becomes its text; anything else that is not text is dropped."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value) if isinstance(value, bool | int) else False


def _objects(value: Any) -> list[Any]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _object(value: Any) -> Any:
    return value if isinstance(value, dict) else None


Text = Annotated[str | None, BeforeValidator(as_text)]
Flag = Annotated[bool, BeforeValidator(_flag)]
# A list of objects: anything else is empty, and items that are not objects are dropped.
ObjectsOnly = BeforeValidator(_objects)
# An optional object: anything that is not one is absent.
IfObject = BeforeValidator(_object)
