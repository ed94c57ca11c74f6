"""The durable job queue: a Postgres table, claimed with SKIP LOCKED, woken by NOTIFY."""
