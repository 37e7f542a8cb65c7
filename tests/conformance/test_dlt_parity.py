"""The same dlt `rest_api` configs through dlt itself and through tap-lms, against the sandbox: the same records.

Each file in `configs/` is a whole dlt config (its `SANDBOX` stands for the sandbox's URL),
one per paginator kind, auth kind, parent form, incremental form and response action, and
whole configs of differently shaped LMS APIs (`lms_*`). dlt runs in its own process
(`run_dlt.py`); tap-lms gets the same config as its settings, plus `max_requests_per_minute: 0`.
For every resource: the same record ids as dlt, each once, each valid against its SCHEMA.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_valid_in_order, run_tap

HERE = Path(__file__).parent
CONFIGS = sorted((HERE / "configs").glob("*.json"))


def config_for(path: Path, url: str) -> dict:
    """The config of `path` pointed at the sandbox at `url`."""
    return json.loads(path.read_text().replace("SANDBOX", url))


def dlt_ids(config: dict, workdir: Path) -> dict[str, list]:
    """Per resource (its table name), the ids of the records dlt yields for `config`."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "dlt-config.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, str(HERE / "run_dlt.py"), str(path), str(workdir)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def tap_ids(run, config: dict) -> dict[str, list]:
    """Per stream, the ids of the records tap-lms wrote (by each resource's primary key, `id` without one)."""
    keys = {}
    defaults = config.get("resource_defaults") or {}
    for given in config["resources"]:
        entry = {"name": given} if isinstance(given, str) else given
        key = entry.get("primary_key", defaults.get("primary_key", "id"))
        keys[entry.get("table_name", entry["name"])] = [key] if isinstance(key, str) else list(key)
    found: dict[str, list] = {}
    for message in run.of_type("RECORD"):
        names = keys.get(message["stream"], ["id"])
        values = [message["record"].get(name) for name in names]
        found.setdefault(message["stream"], []).append(values[0] if len(values) == 1 else values)
    return found


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_same_records_as_dlt(tmp_path, sandbox, path):
    config = config_for(path, sandbox.url)
    expected = dlt_ids(config, tmp_path / "dlt")
    assert expected and any(expected.values()), "dlt read nothing: the config tests nothing"
    run = run_tap(tmp_path, {**config, "max_requests_per_minute": 0})
    assert run.returncode == 0, run.stderr[-3000:]
    written = tap_ids(run, config)
    for resource, ids in expected.items():
        got = written.get(resource, [])
        assert len(got) == len(set(map(json.dumps, got))), f"{resource}: a record was written twice"
        assert sorted(map(json.dumps, set(map(json.dumps, got)))) == sorted(map(json.dumps, set(map(json.dumps, ids)))), resource
    assert set(written) <= set(expected), "tap-lms wrote a stream dlt does not have"
    assert_valid_in_order(run)
