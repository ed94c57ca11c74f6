"""Where the dbt project's files are, without importing dbt or Dagster (a second or more):
the refresh's up-to-date probe reads them before deciding whether to start a run at all."""

from __future__ import annotations

from pathlib import Path

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt"

# The manifest `make install` and `ensure_manifest()` write (dbt's default target path).
MANIFEST = DBT_DIR / "target" / "manifest.json"

# Files whose change can change the manifest (target/ and logs/ are outputs).
_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")


def project_files() -> list[Path]:
    """Every file of the dbt project that can change the manifest, in a stable order."""
    files: list[Path] = []
    for name in _SOURCES:
        path = DBT_DIR / name
        files += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return files
