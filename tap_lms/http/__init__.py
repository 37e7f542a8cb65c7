"""The HTTP side: one client for every request, auth kinds, bounds, retries, the rate-limit gate."""
