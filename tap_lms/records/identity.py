"""Which records of a pass have a usable primary key, and which were read before in the same pass.

A record is only written when its key identifies it: every key field present,
not null, and a text, number or boolean (after coercion to the schema, so an
`"abc"` in an integer key is already null). A record read twice in one pass
(pages that shift, or repeat) is written once. Both are counted for the summary.
Streams without a key keep every record; a fingerprint of each still tells
whether a whole page was read before (the guards' loop check).

Memory: a key in a Python set costs about 66 bytes (measured: 65.6 MB for a
million integer ids), so a pass of 6 million records would hold 390 MB of keys
alone. Past `SPILL_AT` keys, whole-number keys move to a sorted array of 8 bytes
each (`SpilledIds`), looked up by bisection; the set starts again. Whole numbers
are kept exactly, never as hashes, so no record is ever taken for another.
"""

from __future__ import annotations

import bisect
import heapq
import typing as t
from array import array

import msgspec

from tap_lms.records.scalars import INT64

_SCALARS = (str, int, float, bool)
_encode = msgspec.json.Encoder(order="sorted").encode
#: Keys held in the set before its whole numbers move to the compact array.
SPILL_AT = 1_000_000
_INT64 = range(-INT64, INT64)


class SpilledIds:
    """Whole-number keys of a long pass, sorted, 8 bytes each: what the set of keys held before it grew too large."""

    def __init__(self) -> None:
        self._ids = array("q")

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, float) and key.is_integer():  # as a set compares them: 1.0 and True are 1
            key = int(key)
        if not isinstance(key, int) or key not in _INT64:
            return False
        key = int(key)
        ids = self._ids
        at = bisect.bisect_left(ids, key)
        return at < len(ids) and ids[at] == key

    def take(self, keys: set[t.Any]) -> None:
        """Move the whole numbers of `keys` here (the rest stay in the set)."""
        whole = sorted(key for key in keys if type(key) is int and key in _INT64)
        keys.difference_update(whole)
        self._ids = array("q", heapq.merge(self._ids, whole))  # built as it goes: no list of every id


class RecordIdentity:
    """The records seen in one pass, by key."""

    def __init__(self, keys: t.Sequence[str], *, spill_at: int = SPILL_AT) -> None:
        self.keys = tuple(keys)
        self.spill_at = spill_at
        self._seen: set[t.Any] = set()
        self._spilled = SpilledIds()
        #: Records without a usable key (not written), and the first of them, for the warning.
        self.keyless = 0
        self.keyless_example: dict | None = None
        #: Records read a second time in this pass (written once).
        self.duplicates = 0

    def sort_page(self, records: list[dict]) -> tuple[list[dict], int, int]:
        """(the records to write, how many had a usable key, how many of those this pass had not read before)."""
        if not records:
            return records, 0, 0
        if not self.keys:
            return records, len(records), self._unseen_fingerprints(records)
        if len(self.keys) == 1:
            fast = self._single_key_fast_path(records)
            if fast is not None:
                return fast, len(fast), len(fast)
        kept: list[dict] = []
        keyed = 0
        for record in records:
            key = self._key(record)
            if key is None:
                self.keyless += 1
                if self.keyless_example is None:
                    self.keyless_example = record
                continue
            keyed += 1
            if key in self._seen or (self._spilled and key in self._spilled):
                self.duplicates += 1
                continue
            self._seen.add(key)
            kept.append(record)
        self._spill_if_large()
        return kept, keyed, len(kept)

    def _spill_if_large(self) -> None:
        if len(self._seen) > self.spill_at:
            self._spilled.take(self._seen)

    def _single_key_fast_path(self, records: list[dict]) -> list[dict] | None:
        """One key, every value usable and new: the common page, checked with set operations only."""
        name = self.keys[0]
        values = [record.get(name) for record in records]
        try:
            distinct = set(values)
        except TypeError:  # an object or a list where the key should be
            return None
        if None in distinct or len(distinct) != len(values) or not distinct.isdisjoint(self._seen):
            return None
        if not all(type(value) in _SCALARS for value in distinct):
            return None
        if self._spilled and any(value in self._spilled for value in distinct):
            return None
        self._seen |= distinct
        self._spill_if_large()
        return records

    def _key(self, record: dict) -> t.Any:
        values = []
        for name in self.keys:
            value = record.get(name)
            if value is None or not isinstance(value, _SCALARS):
                return None
            values.append(value)
        return values[0] if len(values) == 1 else tuple(values)

    def _unseen_fingerprints(self, records: list[dict]) -> int:
        unseen = 0
        for record in records:
            fingerprint = hash(_encode(record))
            if fingerprint not in self._seen and not (self._spilled and fingerprint in self._spilled):
                self._seen.add(fingerprint)
                unseen += 1
        self._spill_if_large()
        return unseen
