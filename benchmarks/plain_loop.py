"""The floor tap-lms is measured against: requests + json.loads + one json.dumps RECORD line per record.

Usage: python benchmarks/plain_loop.py BASE_URL API_KEY [PAGE_SIZE]. No retries, no schema, no state:
the least work that still fetches every page of the eleven streams and writes every record. Reviews and
coupons are read per course and per promotion, as the API requires (and as tap-lms does).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path  # imported by requests anyway: no cost to the floor

import requests

#: The built-ins' one source, read as data: importing tap_lms here would add its import time to the floor.
_BUILTINS = Path(__file__).resolve().parent.parent / "tap_lms" / "config" / "builtin_streams.json"
STREAMS = json.loads(_BUILTINS.read_text(encoding="utf-8"))["streams"]

PATHS = {row["name"]: row["path"] for row in STREAMS}
#: Lists of a parent: stream -> (parent stream, query parameter carrying the parent's id).
PER_PARENT = {row["name"]: (row["scoped_by"]["parent"], row["scoped_by"]["param"]) for row in STREAMS if "scoped_by" in row}


def main() -> None:
    """Fetch every page of the eleven streams and write one RECORD line per record."""
    base_url, api_key = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 250
    session = requests.Session()
    session.headers["api_key"] = api_key
    out = sys.stdout
    ids: dict[str, list] = {}
    for stream, path in PATHS.items():
        parent, param = PER_PARENT.get(stream, (None, None))
        for scope in [{param: key} for key in ids[parent]] if parent else [{}]:
            page = 1
            while page:
                params = {**scope, "page": page, "limit": limit}
                body = json.loads(session.get(base_url + path, params=params).content)
                for record in body["items"]:
                    out.write(json.dumps({"type": "RECORD", "stream": stream, "record": record}) + "\n")
                ids.setdefault(stream, []).extend(record["id"] for record in body["items"])
                page = body["meta"]["pagination"]["next_page"]
    out.flush()


if __name__ == "__main__":
    main()
