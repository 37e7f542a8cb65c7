"""The floor tap-lms is measured against: requests + json.loads + one json.dumps RECORD line per record.

Usage: python benchmarks/bare_loop.py BASE_URL API_KEY [PAGE_SIZE]. No retries, no schema, no state:
the least work that still fetches every page of the eleven streams and writes every record.
"""

from __future__ import annotations

import json
import sys

import requests

PATHS = {
    "courses": "/v1/courses", "users": "/v1/users", "promotions": "/v1/promotions",
    "categories": "/v1/collections", "reviews": "/v1/course_reviews", "enrollments": "/v1/enrollments",
    "groups": "/v1/groups", "instructors": "/v1/instructors", "orders": "/v1/orders",
    "products": "/v1/products", "coupons": "/v1/coupons",
}


def main() -> None:
    base_url, api_key = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 250
    session = requests.Session()
    session.headers["api_key"] = api_key
    out = sys.stdout
    for stream, path in PATHS.items():
        page = 1
        while page:
            body = json.loads(session.get(base_url + path, params={"page": page, "limit": limit}).content)
            for record in body["items"]:
                out.write(json.dumps({"type": "RECORD", "stream": stream, "record": record}) + "\n")
            page = body["meta"]["pagination"]["next_page"]
    out.flush()


if __name__ == "__main__":
    main()
