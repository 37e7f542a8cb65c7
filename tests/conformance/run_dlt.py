"""Run a dlt `rest_api` config with dlt itself and print, per resource, the records it yields.

Usage: python run_dlt.py CONFIG.json WORKDIR > records.json: per resource (its table name),
`{"ids": [...], "records": [...]}`. Runs in its own process, so dlt's logging and state stay
out of the tests' process; its pipeline state goes to WORKDIR.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    workdir = Path(sys.argv[2])
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    os.environ["DLT_DATA_DIR"] = str(workdir / "dlt-data")
    os.environ["DLT_PROJECT_DIR"] = str(workdir)

    import dlt
    from dlt.common.normalizers.json import wrap_in_dict
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(config)
    pipeline = dlt.pipeline(pipeline_name="conformance", pipelines_dir=str(workdir / "pipelines"), destination="filesystem",
                            dataset_name="out")
    found: dict[str, list] = {}
    with pipeline.managed_state():
        for name, resource in source.selected_resources.items():
            key = _key(resource)
            # An item that is not an object, as dlt's own normalizer wraps it before loading (`{"value": item}`).
            items = [item if isinstance(item, dict) else wrap_in_dict("value", item) for item in resource]
            found[resource.table_name if isinstance(resource.table_name, str) else name] = {
                "ids": [_id(item, key) for item in items],
                "records": items,
            }
    json.dump(found, sys.stdout, default=str)


def _key(resource) -> list[str]:
    hint = resource.compute_table_schema().get("columns", {})
    keys = [name for name, column in hint.items() if column.get("primary_key")]
    return keys or ["id"]


def _id(item: dict, keys: list[str]) -> object:
    values = [item.get(key) for key in keys]
    return values[0] if len(values) == 1 else values


if __name__ == "__main__":
    main()
