"""A schema that grows mid-stream, loaded by target-postgres through `meltano run`: no value lost.

The sandbox's `/grow/v1/courses` brings a new field (`level`) on its third page and sends
`credits`, a whole number so far, as text and as a fraction on its fourth.
"""

from __future__ import annotations

import json
import uuid

import pytest
from helpers import meltano_env, meltano_run_columns

from sandbox import growing

pytestmark = pytest.mark.e2e


def test_meltano_run_loads_a_field_from_page_three_and_a_type_change_on_page_four(
    warehouse, meltano_project, fresh_sandbox, tmp_path
):
    pg = warehouse.connect()
    schema = f"tap_lms_grow_{uuid.uuid4().hex[:10]}"
    client = {  # the API's root comes from setting base_url, as meltano.yml's environments give it
        "paginator": {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": "total_pages"},
    }
    env = meltano_env(
        fresh_sandbox,
        tmp_path,
        TAP_LMS_BASE_URL=f"{fresh_sandbox.url}{growing.PREFIX}",
        TAP_LMS_CLIENT=json.dumps(client),
        TAP_LMS_RESOURCE_DEFAULTS=json.dumps({"primary_key": "id", "write_disposition": "merge",
                                              "endpoint": {"data_selector": "items", "params": {"per_page": 3}}}),
        TAP_LMS_RESOURCES=json.dumps(["courses"]),
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
        **warehouse.target_env,
    )
    try:
        columns = meltano_run_columns(meltano_project, env, pg, schema, "courses")
        assert columns["credits"] == "bigint" and columns["credits__v_text"] == "text"
        assert columns["credits__v_double"] in ("numeric", "double precision")
        assert columns["level"] == "text" and columns["ref__v_json"] == "jsonb"
        rows = {r[0]: r[1:] for r in pg.execute(
            f'select id, level, credits, credits__v_text, credits__v_double, ref, ref__v_json from "{schema}".courses'
        ).fetchall()}
        assert sorted(rows) == list(range(1, 16))
        assert rows[2][0] is None and rows[7][0] == "advanced" and rows[8][0] == "basic"  # earlier rows kept
        assert rows[10][1:4] == (None, "four", None)
        assert rows[11][1] is None and float(rows[11][3]) == 4.5
        assert rows[3][2] is None and rows[3][1] == 4
        assert rows[7][5] == {"code": "x1"} and rows[8][5] == [1, 2] and rows[1][4] == 7
    finally:
        pg.execute(f'drop schema if exists "{schema}" cascade')
        pg.close()
