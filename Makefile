.PHONY: demo demo-stop test lint generated

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
