"""`oms-hub` command line."""

from __future__ import annotations

import argparse
import math
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import uvicorn

from oms_local import demo
from oms_local.gateway import DEFAULT_API_KEY
from oms_local.runtime import LocalHub
from oms_local.server import build_app
from oms_local.state_dir import StateDirError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oms-hub", description="oms-hub order-management hub")
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="run the whole hub in this process (moto, no AWS, no Docker)")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=8080, help="port to serve on (0: any free port, announced)")
    local.add_argument("--no-demo", action="store_true", help="start with no channels, locations or stock")
    local.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="keep the tables and channel secrets in DIR across restarts (default: in memory, "
        "lost on exit); open orders resume their lifecycles; demo data is loaded only "
        "into a DIR that holds no saved state yet",
    )
    local.add_argument(
        "--save-every",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="with --state-dir: snapshot at most this often while writes happen (default 1); "
        "a crash loses at most the writes of the last SECONDS, SIGTERM/SIGINT none",
    )
    local.add_argument(
        "--clock-speed",
        type=float,
        default=1.0,
        metavar="N",
        help="run the hub's clock (schedules, KPIs, state timeouts, the times it writes) N times as fast "
        "as real time, so a 2-hour escalation can be watched in a demo (default 1)",
    )
    workflows = commands.add_parser(
        "workflows", help="workflows/*.yaml -> state machines, catalog and the template's generated blocks"
    )
    workflows.add_argument(
        "action",
        choices=["build", "check"],
        help="build: write what changed; check: fail if the committed files are stale",
    )
    stock = commands.add_parser("stock", help="stock of the hub's locations").add_subparsers(
        dest="action", required=True
    )
    stock_import = stock.add_parser("import", help="send an ERP's CSV file (sku,on_hand[,expected_at]) to the hub")
    stock_import.add_argument("file", type=Path)
    stock_import.add_argument("--location", required=True, help="location id the file is the stock of")
    stock_import.add_argument("--mode", choices=["snapshot", "delta"], default="snapshot")
    stock_import.add_argument(
        "--zero-unlisted", action="store_true", help="snapshot: set the location's SKUs the file does not list to zero"
    )
    stock_import.add_argument("--batch-id", help="the ERP's id for this file (default: derived from its bytes)")
    _url_option(stock_import)
    stock_push = stock.add_parser(
        "push", help="push a marketplace channel's stock to the partner now and follow the push to its end"
    )
    stock_push.add_argument("--channel", required=True, help="the marketplace channel to push")
    stock_push.add_argument(
        "--full", action="store_true", help="every SKU of the channel (default: those whose offer changed)"
    )
    stock_push.add_argument(
        "--every", type=float, default=1.0, metavar="SECONDS", help="how often to look at the push (default 1)"
    )
    stock_push.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="stop following after this long (default 3600; the push goes on in the hub)",
    )
    _url_option(stock_push)
    _file_import_parsers(commands)
    args = parser.parse_args(argv)
    if args.command == "workflows":
        return _workflows(args.action)
    if args.command == "stock":
        return _push_stock(args) if args.action == "push" else _import_stock(args)
    file_import = {"channel": _import_offers, "products": _import_products}.get(args.command)
    if file_import is not None:
        return file_import(args)

    refused = _local_options_refused(args)
    if refused:
        print(refused, file=sys.stderr)
        return 2
    hub = LocalHub(state_dir=args.state_dir, save_every_seconds=args.save_every, clock_speed=args.clock_speed)
    # SIGTERM and Ctrl-C unwind to hub.stop(), which takes the last snapshot: while starting, and after
    # uvicorn's graceful shutdown, which raises the signal it caught again once it has served its requests.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _stop_on_signal)
    try:
        try:
            hub.start()
        except StateDirError as error:
            print(f"oms-hub local: cannot start with --state-dir {args.state_dir}: {error}", file=sys.stderr)
            return 2
        try:
            _serve(hub, args)
        finally:
            hub.stop()
    except _Stopped:
        pass
    return 0


def _local_options_refused(args: argparse.Namespace) -> str | None:
    # The comparisons also refuse nan (and inf for --save-every, which no timer takes).
    if not 0 < args.save_every <= 86400:
        return "--save-every must be a number of seconds above 0 and at most 86400"
    if not 0 < args.clock_speed < math.inf:
        return "--clock-speed must be a number above 0"
    return None


class _Stopped(BaseException):
    """SIGTERM or SIGINT: a normal stop."""


def _stop_on_signal(_signum: int, _frame: object) -> None:
    raise _Stopped()


def _serve(hub: LocalHub, args: argparse.Namespace) -> None:
    hub.start_clock()
    if hub.restored is not None:
        print(
            f"state dir {args.state_dir}: restored {sum(map(len, hub.restored.tables.values()))} rows "
            f"saved at {hub.restored.saved_at}, resumed {len(hub.resumed)} open orders",
            flush=True,
        )
    elif not args.no_demo:
        loaded = demo.load(hub)
        print(
            f"demo data: {loaded['locations']} locations, {loaded['channels']} channels, "
            f"{loaded['skus']} SKUs ({loaded['stock_rows']} stock rows)",
            flush=True,
        )
    users = demo.seed_users(hub)
    config = uvicorn.Config(build_app(hub), host=args.host, port=args.port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    original_startup = server.startup

    async def announce(sockets: list[socket.socket] | None = None) -> None:
        await original_startup(sockets)
        if server.started:
            # --port 0: the system's free port, announced as bound (no window for another process to take it)
            port = server.servers[0].sockets[0].getsockname()[1] if server.servers else args.port
            url = f"http://{args.host}:{port}"
            speed = f", clock at {args.clock_speed:g}x real time" if args.clock_speed != 1 else ""
            print(
                f"oms-hub local is serving on {url} (API key: x-api-key from $OMS_API_KEY, docs: {url}/v1/docs{speed})",
                flush=True,
            )
            logins = ", ".join(f"{user.username} / {user.password} ({', '.join(user.groups)})" for user in users)
            print(f"admin page: {url}/admin (demo users: {logins})", flush=True)

    server.startup = announce  # type: ignore[method-assign]  # uvicorn has no hook for "sockets bound"
    server.run()


def _workflows(action: str) -> int:
    from oms_build import build

    if action == "check":
        stale = build.stale()
        for path in stale:
            print(f"stale: {path} (run `oms-hub workflows build`)", file=sys.stderr)
        return 1 if stale else 0
    for path in build.build():
        print(f"wrote {path}")
    return 0


def _file_import_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`channel offers import` and `products import`: CSV files sent to the hub's bulk APIs in parts."""
    channel = commands.add_parser("channel", help="a sales channel's settings").add_subparsers(
        dest="topic", required=True
    )
    offers = channel.add_parser("offers", help="the channel's offer identities (marketplaces)").add_subparsers(
        dest="action", required=True
    )
    offers_import = offers.add_parser("import", help="send a CSV file (sku,offer_id[,chrtId]) of the channel's mapping")
    offers_import.add_argument("file", type=Path)
    offers_import.add_argument("--channel", required=True, help="the marketplace channel the file maps")
    _url_option(offers_import)
    products = commands.add_parser("products", help="the product catalog").add_subparsers(dest="action", required=True)
    products_import = products.add_parser(
        "import", help="send a CSV file (sku,name,barcodes,weight_grams,length_mm,width_mm,height_mm) to the catalog"
    )
    products_import.add_argument("file", type=Path)
    _url_option(products_import)


def _url_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--url",
        default=os.environ.get("OMS_URL", "http://127.0.0.1:8080"),
        help="the hub's base URL (default $OMS_URL or http://127.0.0.1:8080)",
    )


def _hub_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"x-api-key": os.environ.get("OMS_API_KEY", DEFAULT_API_KEY)}, timeout=30)


def _import_stock(args: argparse.Namespace) -> int:
    from inventory.domain.stock_updates import StockMode
    from oms_local.stock_import import import_file

    if args.zero_unlisted and args.mode != "snapshot":
        print("--zero-unlisted goes with --mode snapshot", file=sys.stderr)
        return 2
    try:
        with _hub_client(args.url) as client:
            report = import_file(
                client,
                args.file,
                args.location,
                mode=StockMode(args.mode),
                zero_unlisted=args.zero_unlisted,
                batch_id=args.batch_id,
            )
    except (OSError, ValueError, httpx.HTTPError) as error:
        print(f"import failed: {error}", file=sys.stderr)
        return 1
    for line, sku, message in report.errors:
        print(f"line {line}: {sku}: {message}", file=sys.stderr)
    applied = (
        "nothing applied (malformed rows)"
        if args.zero_unlisted and report.errors and not report.applied
        else f"{report.applied} applied, {report.zeroed} unlisted zeroed"
    )
    print(
        f"batch {report.batch_id}: {report.rows} rows, {applied}, {len(report.errors)} errors"
        + (f", {report.duplicate_parts} parts already applied before" if report.duplicate_parts else "")
    )
    return 1 if report.errors else 0


def _push_stock(args: argparse.Namespace) -> int:
    """Exit status 0 when the push is done with every line taken; 1 when it failed, the partner refused
    items or lines were left to retry, or it could not be asked for or followed."""
    from oms_local.stock_push_follow import NotFollowed, follow, refusal_lines, request_push

    if not (0 < args.every <= 60 and 0 < args.timeout <= 86400):  # also refuses nan and inf
        print("--every must be above 0 and at most 60 seconds, --timeout above 0 and at most 86400", file=sys.stderr)
        return 2
    try:
        with _hub_client(args.url) as client:
            queued = request_push(client, args.channel, "full" if args.full else "changed")
            outcome = follow(client, args.channel, queued, every=args.every, timeout=args.timeout)
    except (NotFollowed, ValueError, httpx.HTTPError) as error:
        print(f"stock push: {error}", file=sys.stderr)
        return 1
    for line in refusal_lines(outcome.record):
        print(line, file=sys.stderr)
    if outcome.record.get("pending"):
        print(f"{outcome.record['pending']} lines left to retry: the next push sends them", file=sys.stderr)
    return 0 if outcome.succeeded else 1


def _import_offers(args: argparse.Namespace) -> int:
    from oms_local.offers_import import import_offers

    try:
        with _hub_client(args.url) as client:
            report = import_offers(client, args.file, args.channel)
    except (OSError, ValueError, httpx.HTTPError) as error:
        print(f"import failed: {error}", file=sys.stderr)
        return 1
    for line, column, reason in report.errors:
        print(f"line {line}: {column}: {reason}", file=sys.stderr)
    print(
        f"channel {args.channel}: {report.rows} rows, {report.written} written, {report.unchanged} unchanged, "
        f"{len(report.errors)} errors"
    )
    return 1 if report.errors else 0


def _import_products(args: argparse.Namespace) -> int:
    from oms_local.products_import import import_products

    try:
        with _hub_client(args.url) as client:
            report = import_products(client, args.file)
    except (OSError, ValueError, httpx.HTTPError) as error:
        print(f"import failed: {error}", file=sys.stderr)
        return 1
    for line, column, reason in report.errors:
        print(f"line {line}: {column}: {reason}", file=sys.stderr)
    written = f"{report.written} written, {report.unchanged} unchanged"
    print(f"products: {report.rows} rows, {written}, {len(report.errors)} errors")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
