"""What a list request's query selects: update-time filters and field filters, as the LMS API applies them."""

from __future__ import annotations

import datetime as dt
import typing as t

PAGING_PARAMS = frozenset({"page", "limit", "offset"})


#: Update-time filters: the LMS list's is exclusive, the generic resource's inclusive, so
#: tests show the tap loses nothing whichever way an API compares.
TIME_FILTERS = {"query[updated_after]": ("updated_at", False), "updated_since": ("updated_at", True)}


def _updated_since(records: list[dict], field: str, since: str, *, inclusive: bool) -> list[dict]:
    try:
        bound = dt.datetime.fromisoformat(since)
    except ValueError as exc:
        raise ValueError(f"not a timestamp: {since!r}") from exc
    kept = []
    for record in records:
        try:
            value = dt.datetime.fromisoformat(record.get(field) or "")
        except ValueError:
            continue
        if value > bound or (inclusive and value == bound):
            kept.append(record)
    return kept


def filtered(records: tuple[dict, ...], params: dict[str, str]) -> list[dict]:
    """Records matching every non-paging parameter that names one of their fields."""
    selected = list(records)
    for name, (field_name, inclusive) in TIME_FILTERS.items():
        if params.get(name):
            selected = _updated_since(selected, field_name, params[name], inclusive=inclusive)
    filters = {k: v for k, v in params.items() if k not in PAGING_PARAMS and k not in TIME_FILTERS}
    if not filters or not selected:
        return selected
    known = {k: v for k, v in filters.items() if k in selected[0]}
    if not known:
        return selected
    return [r for r in selected if all(same_value(r.get(k), v) for k, v in known.items())]


def same_value(stored: t.Any, wanted: str) -> bool:
    """Filter on the value, not its serialisation: a drifted "12.0" is still course 12."""
    if str(stored) == wanted:
        return True
    try:
        return float(stored) == float(wanted)
    except (TypeError, ValueError):
        return False
