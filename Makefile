.PHONY: demo demo-stop test

# One command, no credentials, no database server: embedded PostgreSQL + sandbox API ->
# meltano run tap-lms target-postgres -> answers read back with SQL.
demo:
	bash scripts/demo.sh

# Stop the demo's embedded PostgreSQL (its data stays in .demo/pgdata).
demo-stop:
	.venv/bin/python -m tap_lms.sandbox.postgres stop --pgdata .demo/pgdata

test:
	.venv/bin/pytest
