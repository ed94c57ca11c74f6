"""The Dagster code location. The warehouse issues add replication, dbt and export assets."""

from __future__ import annotations

import dagster as dg

defs = dg.Definitions()
