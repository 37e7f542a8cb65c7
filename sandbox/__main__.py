"""`python -m sandbox` (from the repository root): serve the sandbox API until interrupted."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from pathlib import Path

from sandbox.server import Sandbox
from sandbox.state import DEFAULT_KEY, SandboxOptions, default_rate_limit


def main(argv: list[str] | None = None) -> None:
    """Parse options, print the base URL, serve."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--api-key", default=DEFAULT_KEY)
    parser.add_argument("--key-name", default="api_key", help="header or query parameter carrying the key")
    parser.add_argument("--key-location", choices=["header", "query", "any"], default="any")
    parser.add_argument("--scale", type=float, default=1.0, help="data size multiplier (1 = 13,489 records)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument("--no-meta", action="store_true", help="omit meta.pagination from page-number responses")
    parser.add_argument("--no-total", action="store_true", help="omit total from offset responses")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=default_rate_limit(),
        help="requests allowed per --rate-window, then 429 (default 120 a minute, the LMS API's own limit, or "
        "$SANDBOX_RATE_LIMIT; 0: no limit)",
    )
    parser.add_argument("--rate-window", type=float, default=60.0, help="seconds of one rate-limit window")
    parser.add_argument("--no-rate-headers", action="store_true", help="send no RateLimit-Remaining headers")
    parser.add_argument(
        "--remove-every",
        type=int,
        metavar="N",
        help="serve the LMS as if every record whose id is a multiple of N had been deleted (with its reviews and coupons)",
    )
    parser.add_argument(
        "--no-parent-required",
        action="store_true",
        help="list reviews and coupons without course_id / promotion_id (the LMS API requires them)",
    )
    parser.add_argument(
        "--background",
        action="store_true",
        help="return once the API listens, leaving it running in the background (stop it with the kill command printed)",
    )
    args = parser.parse_args(argv)
    try:
        sandbox = _sandbox(args)
    except OSError as exc:  # the port is taken, or the host is not an address of this machine
        if args.background and _same_sandbox_serves(args):
            print(f"http://{args.host}:{args.port}", flush=True)  # noqa: T201
            print(  # noqa: T201
                f"tap-lms sandbox: one with these options already serves on {args.host}:{args.port}; using it",
                file=sys.stderr, flush=True,
            )
            return
        print(  # noqa: T201
            f"sandbox: error: cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); "
            "choose another --port, or --port 0 for a free one",
            file=sys.stderr,
        )
        sys.exit(2)
    print(sandbox.url, flush=True)  # noqa: T201 - the one line a script waits for
    if args.background:
        _detach()  # the socket listens already: a client started next finds it
    else:
        print("tap-lms sandbox serving; Ctrl-C stops it", file=sys.stderr, flush=True)  # noqa: T201
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


def _detach() -> None:
    """Serve on in a child process; this one says how to stop it and exits."""
    child = os.fork()
    if child:
        print(f"tap-lms sandbox serving in the background; stop it with: kill {child}", file=sys.stderr, flush=True)  # noqa: T201
        os._exit(0)
    with Path(os.devnull).open("r+b") as null:  # nothing holds the caller's terminal or pipes open
        for stream in (sys.stdin, sys.stdout, sys.stderr):
            os.dup2(null.fileno(), stream.fileno())


def _same_sandbox_serves(args: argparse.Namespace) -> bool:
    """Whether the sandbox already on the port was started with the same options (a command run twice)."""
    try:
        with urllib.request.urlopen(f"http://{args.host}:{args.port}/_sandbox/health", timeout=5) as answer:
            health = json.load(answer)
    except (OSError, ValueError):
        return False
    return isinstance(health, dict) and health.get("options") == SandboxOptions(**_options(args)).fingerprint()


def _sandbox(args: argparse.Namespace) -> Sandbox:
    return Sandbox(args.host, args.port, **_options(args))


def _options(args: argparse.Namespace) -> dict:
    return {
        "api_key": args.api_key,
        "key_name": args.key_name,
        "key_location": args.key_location,
        "scale": args.scale,
        "latency": args.latency,
        "page_meta": not args.no_meta,
        "offset_total": not args.no_total,
        "rate_limit": args.rate_limit or None,
        "rate_window": args.rate_window,
        "rate_headers": not args.no_rate_headers,
        "parent_required": not args.no_parent_required,
        "remove_every": args.remove_every,
    }


if __name__ == "__main__":
    main()
