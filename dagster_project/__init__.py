"""Dagster project: replicates Postgres into DuckDB (then dbt, then exports, in later issues).

`definitions.py` builds the `Definitions` from `assets/`, `resources.py`, `jobs.py`,
`schedules.py` and `checks.py`; `replication.py` and `warehouse.py` hold the logic they use.
"""

import os

# dbt reports usage to dbt Labs unless told not to; nothing here may phone home.
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
