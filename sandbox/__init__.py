"""A local LMS API for tests, the demo and the benchmarks (see `server.py`)."""

from sandbox.faults import Fault, FaultPlan
from sandbox.handler import ROUTES
from sandbox.server import Sandbox
from sandbox.state import DEFAULT_KEY

__all__ = ["DEFAULT_KEY", "ROUTES", "Fault", "FaultPlan", "Sandbox"]
