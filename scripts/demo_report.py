"""What `make demo` prints after the load: read back from PostgreSQL with SQL, not from the tap's output.

Usage: python -m scripts.demo_report SQLALCHEMY_URL SECONDS RUN_LOG STATE_JSON
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import psycopg

from sandbox.postgres import libpq_uri

SCHEMA = "lms"

# Money and progress are counted over live rows only: a record the LMS deleted stays in its table,
# marked in _sdc_deleted_at, and must not count (after 88 orders were deleted, revenue has to drop).

COMPLETION_PER_COURSE = f"""
    select course_name, count(*) as enrollments,
           round(100.0 * avg(case when completed then 1 else 0 end), 1) as completed_pct,
           round(100.0 * avg(percentage_completed), 1) as avg_progress_pct
    from {SCHEMA}.enrollments where _sdc_deleted_at is null group by course_name order by completed_pct desc, course_name limit 5
"""
REVENUE_PER_PRODUCT = f"""
    select product_name, count(*) as orders, sum(amount_dollars) as revenue
    from {SCHEMA}.orders where status = 'complete' and _sdc_deleted_at is null
    group by product_name order by revenue desc, product_name limit 5
"""


def main() -> None:
    """Print rows per table, two answers, the bookmark, and how to connect and stop."""
    url, seconds, run_log, state = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    uri = libpq_uri(url)
    with psycopg.connect(uri, autocommit=True) as db:
        tables = [row[0] for row in db.execute(
            "select table_name from information_schema.tables where table_schema = %s order by 1", (SCHEMA,)
        )]
        counts = {
            t: db.execute(
                f'select count(*), count(distinct id), count(*) filter (where _sdc_deleted_at is not null) from {SCHEMA}."{t}"'
            ).fetchone()
            for t in tables
        }
        courses = db.execute(COMPLETION_PER_COURSE).fetchall()
        products = db.execute(REVENUE_PER_PRODUCT).fetchall()

    total = sum(rows for rows, _distinct, _deleted in counts.values())
    duplicates = sum(rows - distinct for rows, distinct, _deleted in counts.values())
    deleted = sum(gone for _rows, _distinct, gone in counts.values())
    print(f"\ntap-lms demo: {total:,} rows in {len(counts)} PostgreSQL tables (schema {SCHEMA}), "
          f"meltano run took {seconds} s\n")
    width = max(map(len, counts), default=6)
    print(f"  {'table':<{width}}  {'rows':>7}  {'marked deleted':>14}")
    for table, (rows, _distinct, gone) in counts.items():
        print(f"  {table:<{width}}  {rows:>7,}  {gone:>14,}")
    print(f"  duplicate ids: {duplicates} (every run merges on id)")
    print(f"  marked deleted: {deleted:,} rows deleted in the LMS since they were loaded "
          "(`where _sdc_deleted_at is null` selects the live ones)\n")

    print("Enrollments and completion rate, the five courses most often completed:")
    for name, enrollments, done, progress in courses:
        print(f"  {name:<24} {enrollments:>5} enrolled  {done:>5}% completed  {progress:>5}% average progress")
    print("\nRevenue per product (completed orders, deleted ones left out), the top five:")
    for name, orders, revenue in products:
        print(f"  {name:<24} {orders:>5} orders  ${revenue:>10,.2f}")

    runs = re.findall(r"\benrollments\s+INCREMENTAL\s+([\d,]+)", run_log.read_text(errors="replace"))
    read = runs[-1] if runs else None
    bookmark = _bookmark(state)
    print(f"\nThis run read {read or '?'} enrollments; the bookmark for the next run is "
          f"updated_at {bookmark}. Run `make demo` again: only enrollments updated since then are read.")
    print(f"""
Connect:  psql "{uri}"
          python -c "import psycopg; print(psycopg.connect('{uri}').execute('select count(*) from lms.orders').fetchone())"
Meltano:  python -m sandbox --port 8766 &   then   meltano --environment=demo run tap-lms target-postgres
Stop:     make demo-stop    (the data stays in .demo/pgdata; `make demo` starts it again)
""")


def _bookmark(state: str) -> str:
    try:
        bookmarks = json.loads(state)["singer_state"]["bookmarks"]
        return str(bookmarks["enrollments"]["replication_key_value"])
    except (ValueError, KeyError, TypeError):
        return "(none yet)"


if __name__ == "__main__":
    main()
