"""Run the sandbox on its own: ``python -m connectors.simulators --port 8100``."""

from __future__ import annotations

import argparse

import uvicorn

from connectors.simulators.app import create_sandbox_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.simulators", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args(argv)
    # One worker only: the agencies keep their state (outbox, outages, counters) in this process.
    uvicorn.run(create_sandbox_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
