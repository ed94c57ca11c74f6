"""Which parser reads which platform's webhooks: adding Smartlead or Instantly is one module
and one line here."""

from __future__ import annotations

from typing import Final

from sender_service.ingest import emailbison
from sender_service.ingest.events import Parser

PARSERS: Final[dict[str, Parser]] = {"emailbison": emailbison.parse}
