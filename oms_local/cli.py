"""`oms-hub` command line."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from oms_local import demo
from oms_local.runtime import LocalHub
from oms_local.server import build_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oms-hub", description="oms-hub order-management hub")
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="run the whole hub in this process (moto, no AWS, no Docker)")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=8080)
    local.add_argument("--no-demo", action="store_true", help="start with no channels, locations or stock")
    args = parser.parse_args(argv)

    with LocalHub() as hub:
        hub.start_clock()
        if not args.no_demo:
            loaded = demo.load(hub)
            print(f"demo data: {loaded['locations']} locations, {loaded['channels']} channel, "
                  f"{loaded['skus']} SKUs ({loaded['stock_rows']} stock rows)", flush=True)
        config = uvicorn.Config(build_app(hub), host=args.host, port=args.port, log_level="warning",
                                access_log=False)
        server = uvicorn.Server(config)
        original_startup = server.startup

        async def announce(*a: object, **k: object) -> None:
            await original_startup(*a, **k)
            if server.started:
                print(f"oms-hub local is serving on http://{args.host}:{args.port} "
                      f"(API key: x-api-key from $OMS_API_KEY, docs: http://{args.host}:{args.port}/v1/docs)",
                      flush=True)

        server.startup = announce  # type: ignore[method-assign]
        server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
