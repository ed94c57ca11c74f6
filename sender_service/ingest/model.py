"""The readers' pydantic base: unknown fields ignored, and a body that does not fit its model
refused with a `PayloadError` naming the first offending field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from sender_service.ingest.events import PayloadError


class ProviderModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


M = TypeVar("M", bound=ProviderModel)


def validate(model: type[M], raw: Any) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        problem = "missing" if first["type"] == "missing" else first["msg"].lower()
        raise PayloadError(f"{where or 'body'}: {problem}", where or None) from None
