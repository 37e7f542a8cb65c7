"""The same dlt `rest_api` configs through dlt itself and through tap-lms, against the sandbox: the same records.

Each file in `configs/` is a whole dlt config (its `SANDBOX` stands for the sandbox's URL),
one per paginator kind, auth kind, parent form, incremental form and response action, and
whole configs of differently shaped LMS APIs (`lms_*`). dlt runs in its own process
(`run_dlt.py`); tap-lms gets the same config as its settings, plus `max_requests_per_minute: 0`.
For every resource: the same record ids as dlt, each once, each valid against its SCHEMA, and
every leaf value of dlt's records in tap-lms's record of the same id (a value may sit under
another name in tap-lms: a variant column, a name shortened for the warehouse).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
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


def dlt_records(config: dict, workdir: Path) -> dict[str, dict[str, list]]:
    """Per resource (its table name), the ids (`ids`) and the records (`records`) dlt yields for `config`."""
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
def test_same_records_as_dlt(tmp_path, fresh_sandbox, path):
    sandbox = fresh_sandbox  # the sandbox's default options, whatever a test before changed
    config = config_for(path, sandbox.url)
    found = dlt_records(config, tmp_path / "dlt")
    expected = {resource: got["ids"] for resource, got in found.items()}
    assert expected and any(expected.values()), "dlt read nothing: the config tests nothing"
    run = run_tap(tmp_path, {**config, "max_requests_per_minute": 0})
    assert run.returncode == 0, run.stderr[-3000:]
    written = tap_ids(run, config)
    for resource, ids in expected.items():
        got = written.get(resource, [])
        keyed = [value for value in got if value is not None]  # a resource without a key may write records of no id
        assert len(keyed) == len(set(map(json.dumps, keyed))), f"{resource}: a record was written twice"
        assert sorted(map(json.dumps, set(map(json.dumps, got)))) == sorted(map(json.dumps, set(map(json.dumps, ids)))), resource
    assert set(written) <= set(expected), "tap-lms wrote a stream dlt does not have"
    assert_valid_in_order(run)
    assert_leaf_values_kept(found, run, config)


def leaves(value: object) -> list[str]:  # noqa: PLR0911 - one case per JSON type
    """Every scalar inside `value` (not null), as text: what must survive, wherever it is written."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    if value is None:
        return []
    if isinstance(value, bool):
        return [json.dumps(value)]
    if isinstance(value, (int, float)):  # "4.0" in a number column is 4.0; beyond 64 bits a whole number is text
        return [_number(str(value))]
    if isinstance(value, str):
        return [_moment(value) or (_number(value) if _NUMBER.match(value.strip()) else value)]
    return [json.dumps(value)]


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _number(text: str) -> str:
    return str(decimal.Decimal(text.strip()).normalize())


_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d+))?(?:Z|[+-]\d\d:\d\d)$")


def _moment(text: str) -> str | None:
    """A timestamp as the instant it names, every fractional digit kept (a replication key is written in UTC)."""
    found = _TIMESTAMP.match(text)
    if not found:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)
    except ValueError:
        return None
    return f"{moment.replace(microsecond=0, tzinfo=None).isoformat()}.{(found[1] or '').rstrip('0')}"


def assert_leaf_values_kept(found: dict[str, dict[str, list]], run, config: dict) -> None:
    """No leaf value of a dlt record is missing from tap-lms's record with the same id."""
    written = _by_id(run, config)
    for resource, got in found.items():
        tap = written.get(resource, {})
        for record_id, record in zip(got["ids"], got["records"], strict=True):
            mine = tap.get(json.dumps(record_id))
            if mine is None:
                continue  # a record dlt yields twice is compared once; a missing one fails above
            kept = leaves(mine)
            missing = [leaf for leaf in leaves(record) if leaf not in kept]
            assert not missing, f"{resource} {record_id}: dlt's values {missing[:5]} are not in tap-lms's record {mine}"


def _by_id(run, config: dict) -> dict[str, dict[str, dict]]:
    ids = tap_ids(run, config)
    found: dict[str, dict[str, dict]] = {}
    positions: dict[str, int] = {}
    for message in run.of_type("RECORD"):
        stream = message["stream"]
        position = positions.get(stream, 0)
        positions[stream] = position + 1
        found.setdefault(stream, {})[json.dumps(ids[stream][position])] = message["record"]
    return found
