"""The ``backorders`` command: serve, migrate, token, seed-demo, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import SettingsError

from api.auth import mint
from api.domain.identity import Role
from api.logs import configure as configure_logging
from api.settings import MAX_WORKERS, Settings
from api.tracing import wanted_exporters


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except SettingsError as exc:
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"BACKORDERS_{field.group(1).upper()}" if field else "settings"
        print(f"backorders: bad settings:\n  {name}: not valid JSON (e.g. "
              '["https://shop.example"])', file=sys.stderr)
        return 2
    except ValidationError as exc:
        print("backorders: bad settings:", file=sys.stderr)
        for error in exc.errors():
            name = "BACKORDERS_" + "_".join(str(p) for p in error["loc"]).upper() \
                if error["loc"] else "settings"
            if name in ("BACKORDERS_HOST", "BACKORDERS_PORT"):
                name = name.removeprefix("BACKORDERS_")
            print(f"  {name}: {error['msg']}", file=sys.stderr)
        return 2
    try:
        wanted_exporters(os.environ)
    except ValueError as exc:  # the variable's name leads the message
        print(f"backorders: bad settings:\n  {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    result: int = args.run(args, settings)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backorders", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate, then serve the API (HOST, PORT)")
    serve.add_argument("--demo", action="store_true", help="add demo data and print tokens")
    serve.add_argument("--no-migrate", action="store_true", help="do not migrate first")
    serve.add_argument("--workers", type=_worker_count, metavar="N",
                       help="server processes on the one port (BACKORDERS_WORKERS; default: "
                            "the cores in production, 1 in development)")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(run=_migrate)

    token = commands.add_parser("token", help="mint a development bearer token")
    token.add_argument("subject", help="the customer or staff member id")
    token.add_argument("--role", choices=["customer", "staff"], default="customer")
    token.add_argument("--hours", type=float, default=24.0)
    token.set_defaults(run=_token)

    sink = commands.add_parser("mail-sink", help="a local SMTP server that prints what it gets")
    sink.add_argument("--port", type=int, default=2525)
    sink.set_defaults(run=_mail_sink)

    check = commands.add_parser("check-config", help="print the settings in force, masked")
    check.add_argument("--markdown", nargs="?", const="-", metavar="FILE",
                       help="print every setting's table (Markdown) instead, or write it "
                            "between the table's markers in FILE (README.md)")
    check.set_defaults(run=_check_config)

    worker = commands.add_parser("worker", help="dispatch notifications (a separate process)")
    worker.set_defaults(run=_worker)

    demo = commands.add_parser("seed-demo", help="add demo data to an empty database")
    demo.set_defaults(run=_seed_demo)

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("--output", default="schema.graphql")
    export.add_argument("--possible-types", metavar="FILE", help=(
        "also write, as JSON, each interface and union with the object types that may come "
        "back for it: the possibleTypes of Apollo Client's cache"))
    export.set_defaults(run=_export_schema)
    return parser


def _mail_sink(args: argparse.Namespace, settings: Settings) -> int:
    from api.mailsink import run

    run("127.0.0.1", args.port)
    return 0


def _check_config(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from api.settings import settings_table, with_settings_table

    if args.markdown == "-":
        print(settings_table(), end="")
    elif args.markdown:
        path = Path(args.markdown)
        path.write_text(with_settings_table(path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"backorders: wrote the settings table into {path}")
    else:
        print(json.dumps(settings.masked(), indent=2, default=str))
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from api.store.database import migrate

    asyncio.run(migrate(settings.database_url))
    print("backorders: migrations applied")
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    role = Role(args.role.upper())
    print(mint(settings, args.subject, role, timedelta(hours=args.hours)))
    return 0


def _seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from tortoise import Tortoise

    from api import demo
    from api.store.database import config_of

    async def run() -> bool:
        await Tortoise.init(config=config_of(settings))
        try:
            return await demo.seed(settings.currency)
        finally:
            await Tortoise.close_connections()

    added = asyncio.run(run())
    print("backorders: demo data added" if added else "backorders: products exist; no demo data")
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    import signal

    from tortoise import Tortoise

    from api import tracing
    from api.notifications.setup import dispatcher_from
    from api.scheduling.sweeper import Sweeper
    from api.services import holding, payments
    from api.store.database import config_of
    from api.webhooks.setup import webhooks_from

    tracing.start_from_environment()  # off unless OTEL_* ask for an exporter

    async def run() -> None:
        await Tortoise.init(config=config_of(settings))
        dispatcher = dispatcher_from(settings)
        webhooks = webhooks_from(settings, name=dispatcher.name)

        def wake() -> None:
            dispatcher.wake()
            webhooks.wake()

        holding.configure(settings.holds)
        payments.configure(settings.authorizations)
        sweeper = Sweeper(settings.sweep_seconds, settings.compensation, wake)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await dispatcher.start()
        await webhooks.start()
        await sweeper.start()
        print(f"backorders: worker {dispatcher.name} dispatching", flush=True)
        await stop.wait()
        await sweeper.stop()
        await webhooks.stop()
        await dispatcher.stop()
        await Tortoise.close_connections()
        print("backorders: worker stopped; claimed messages released", flush=True)

    asyncio.run(run())
    return 0


def _export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from api.graphql.schema import build_schema

    schema = build_schema(settings)
    Path(args.output).write_text(schema.as_str() + "\n", encoding="utf-8")
    print(f"backorders: wrote {args.output}")
    if args.possible_types:
        import json

        from api.graphql.schema import possible_types

        Path(args.possible_types).write_text(
            json.dumps(possible_types(schema), indent=2, sort_keys=True) + "\n",
            encoding="utf-8")
        print(f"backorders: wrote {args.possible_types}")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from api.server import serve
    from api.workers import WorkersRefused, machine_cores, plan_workers

    try:
        workers = plan_workers(settings, args.workers, machine_cores())
    except WorkersRefused as exc:  # before anything is migrated or seeded
        print(f"backorders: {exc}", file=sys.stderr)
        return 2
    for note in workers.notes:
        print(f"backorders: {note}", file=sys.stderr)
    if not args.no_migrate:
        _migrate(args, settings)
    if args.demo:
        _seed_demo(args, settings)
        _print_demo_tokens(settings)
    print(f"backorders: GraphiQL at http://{settings.host}:{settings.port}/graphql", flush=True)
    if workers.count > 1:
        print(f"backorders: serving with {workers.count} worker processes", flush=True)
    return serve(settings, workers.count)


def _worker_count(text: str) -> int:
    """``--workers``: as ``BACKORDERS_WORKERS`` allows, a whole number from 1."""
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of processes (a whole number from 1 to {MAX_WORKERS})")
    return int(text)


def _print_demo_tokens(settings: Settings) -> None:
    print("backorders: demo tokens (valid 30 days), send as 'Authorization: Bearer <token>':")
    for subject, role in (("demo-staff", Role.STAFF), ("alice", Role.CUSTOMER),
                          ("bob", Role.CUSTOMER)):
        token = mint(settings, subject, role, timedelta(days=30))
        print(f"  {role.value.lower():8} {subject:10} {token}")


if __name__ == "__main__":
    raise SystemExit(main())
