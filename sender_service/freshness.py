"""How fresh the warehouse should be: the refresh schedule, and the age past which it is stale.

Dagster's schedule, its freshness checks on the marts and `replyline doctor` read these, so
an operator sees the same verdict in the Dagster UI and on the command line.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

REFRESH_EVERY_MINUTES: Final = 15
REFRESH_EVERY: Final = timedelta(minutes=REFRESH_EVERY_MINUTES)
# One missed run is a blip; two in a row means the refresh is broken.
STALE_AFTER: Final = 2 * REFRESH_EVERY
