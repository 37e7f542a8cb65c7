"""A local LMS API for tests, the demo and the benchmarks (see `server.py`)."""

from tap_lms.sandbox.faults import Fault, FaultPlan
from tap_lms.sandbox.handler import DEFAULT_KEY, ROUTES
from tap_lms.sandbox.server import Sandbox

__all__ = ["DEFAULT_KEY", "ROUTES", "Fault", "FaultPlan", "Sandbox"]
