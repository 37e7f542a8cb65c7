"""The stream engine: a stream, its passes, and what a pass needs (read-ahead, bookmarks, first pages, samples).

A stream (`stream.py`) is what the SDK syncs; for each pass (the whole list, or one
parent record's part of it) it makes a `Pass` (`passes.py`), which reads the pages
in order and prepares their records. What several passes share is held by the
stream as objects: its `Bookmarks` (where a pass starts and ends) and its
`ReadAheadPlanner` (which pages to ask for early, from `prefetch.py`'s pools).
Imports go one way: stream -> passes -> read_ahead, bookmarks -> prefetch.
"""
