"""Values and names PostgreSQL cannot hold as sent, loaded by target-postgres through `meltano run`: every row, no value lost.

The sandbox's `/awkward/v1/records` has names longer than 63 bytes (two alike in their
first 63), a name of no characters, whole numbers beyond 64 bits where a whole-number
column was typed from the first page, an API's own `score__v_text` while `score` needs a
text variant, and timestamps with seven fractional digits.
"""

from __future__ import annotations

import json
import uuid

import pytest
from helpers import meltano_env, meltano_run_columns

from sandbox import awkward
from tap_lms.records.growth import BLANK_NAME, storable_name

pytestmark = pytest.mark.e2e


def test_meltano_run_loads_names_and_values_postgres_cannot_hold_as_sent(warehouse, meltano_project, fresh_sandbox, tmp_path):
    pg = warehouse.connect()
    schema = f"tap_lms_awkward_{uuid.uuid4().hex[:10]}"
    client = {"paginator": {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": "total_pages"}}
    env = meltano_env(
        fresh_sandbox,
        tmp_path,
        TAP_LMS_BASE_URL=f"{fresh_sandbox.url}{awkward.PREFIX}",
        TAP_LMS_CLIENT=json.dumps(client),
        TAP_LMS_RESOURCE_DEFAULTS=json.dumps(
            {"primary_key": "id", "write_disposition": "merge", "endpoint": {"data_selector": "items"}}
        ),
        TAP_LMS_RESOURCES=json.dumps(["records"]),
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
        **warehouse.target_env,
    )
    try:
        columns = meltano_run_columns(meltano_project, env, pg, schema, "records")
        first, final, accented = (storable_name(name) for name in (awkward.LONG_FIRST, awkward.LONG_FINAL, awkward.LONG_ACCENTED))
        assert len({first, final}) == 2 and all(len(name.encode()) <= 63 for name in (first, final, accented))
        assert {first, final, accented, BLANK_NAME, "amount", "amount__v_text", "score__v_text", "score__v2_text"} <= set(columns)
        assert columns["amount"] == "bigint" and columns["amount__v_text"] == "text"
        assert columns["grade__v_bigint"] == "text"  # the API's own field, typed from its values
        rows = {row[0]: row[1:] for row in pg.execute(
            f'select id, "{first}", "{final}", "{accented}", "{BLANK_NAME}", amount, amount__v_text, score, '
            f'score__v_text, score__v2_text from "{schema}".records'
        ).fetchall()}
        assert sorted(rows) == list(range(1, 10))
        for number, row in rows.items():
            sent = awkward.record(number)
            assert row[:4] == (sent[awkward.LONG_FIRST], sent[awkward.LONG_FINAL], sent[awkward.LONG_ACCENTED], sent[""])
            amount = row[4] if row[4] is not None else int(row[5])
            assert amount == sent["amount"]
            assert row[7] == sent["score__v_text"]  # never overwritten by score's variant
        assert rows[5][6] is None and rows[5][8] == "absent"
        # A date-time with an offset and seven digits is written as sent; target-postgres's timestamp column has no
        # zone, so PostgreSQL keeps its local time, to the microsecond (docs/dlt-configs.md says so).
        moments = dict(pg.execute(
            f"select id, to_char(offset_at, 'YYYY-MM-DD HH24:MI:SS.US') from \"{schema}\".records where offset_at is not null"
        ).fetchall())
        assert moments == {n: f"2024-03-0{n} 10:00:00.123456" for n in range(4, 10)}
    finally:
        pg.execute(f'drop schema if exists "{schema}" cascade')
        pg.close()
