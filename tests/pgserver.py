"""A throwaway PostgreSQL server for the test suite.

Starts a private server from the installed PostgreSQL server binaries (initdb,
pg_ctl, postgres) on a free TCP port on 127.0.0.1, with a temporary data
folder that is removed again on stop. Durability is switched off (fsync,
synchronous_commit, full_page_writes), so it is fast and good for nothing but
tests. Authentication is "trust" for the superuser ``postgres``.

PostgreSQL refuses to run as root. When this process is root, the data folder
is handed to the ``postgres`` system user and initdb/pg_ctl run through
``runuser -u postgres --``; otherwise they run directly as the current user.

This module has no pytest imports; fixtures wrap it::

    server = PostgresServer()
    server.start()
    dsn = server.create_database("test_1")   # postgres://postgres@127.0.0.1:PORT/test_1
    ...
    server.stop()

Set ``BACKORDERS_PG_BIN`` to the directory holding initdb/pg_ctl/postgres to
choose a particular PostgreSQL installation.
"""

from __future__ import annotations

import asyncio
import atexit
import glob
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

__all__ = ["PostgresServer", "PostgresServerError", "find_pg_bin"]

PG_BIN_ENV = "BACKORDERS_PG_BIN"
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
SYSTEM_USER = "postgres"  # the OS user the server runs as when we are root
SUPERUSER = "postgres"  # the database superuser initdb creates

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class PostgresServerError(RuntimeError):
    """The test server could not be set up, started or used."""


def _has_server_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in SERVER_BINARIES)


def _version_key(directory: Path) -> tuple:
    # /usr/lib/postgresql/<version>/bin: sort "9.6" < "15" < "16" numerically.
    version = directory.parent.name
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def find_pg_bin() -> Path | None:
    """Return the directory holding initdb, pg_ctl and postgres, or None.

    Looks, in order, at $BACKORDERS_PG_BIN, at ``pg_config --bindir`` (when
    pg_config is on PATH), and at the newest ``/usr/lib/postgresql/*/bin``.
    A candidate counts only if it really holds the server binaries: Debian's
    pg_config from libpq-dev alone points at /usr/bin, which has none.
    """
    explicit = os.environ.get(PG_BIN_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if _has_server_binaries(path):
            return path.resolve()

    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and _has_server_binaries(Path(out)):
            return Path(out).resolve()

    candidates = [
        Path(p).parent
        for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")
    ]
    candidates = [c for c in candidates if _has_server_binaries(c)]
    if candidates:
        return max(candidates, key=_version_key)
    return None


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class PostgresServer:
    """A private PostgreSQL server on 127.0.0.1 with a temporary data folder.

    Attributes after ``start()``: ``port``, ``dsn`` (the ``postgres``
    database), ``data_dir``, ``log_file``, ``bin_dir``. Usable as a context
    manager. ``stop()`` is idempotent and never raises.
    """

    host = "127.0.0.1"
    user = SUPERUSER

    def __init__(
        self,
        bin_dir: Path | str | None = None,
        *,
        port: int | None = None,
        base_dir: Path | str | None = None,
        start_timeout: float = 60.0,
        extra_options: tuple[str, ...] = (),
    ) -> None:
        self.bin_dir: Path | None = Path(bin_dir) if bin_dir else None
        self._requested_port = port
        self._base_parent = Path(base_dir) if base_dir else None
        self.start_timeout = start_timeout
        self.extra_options = tuple(extra_options)
        self.port: int | None = None
        self.base_dir: Path | None = None
        self.data_dir: Path | None = None
        self.log_file: Path | None = None
        self._as_root = os.geteuid() == 0
        self._running = False
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- public

    @property
    def dsn(self) -> str:
        """DSN of the server's ``postgres`` database."""
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        if self.port is None or not self._running:
            raise PostgresServerError("the PostgreSQL test server is not running")
        return f"postgres://{self.user}@{self.host}:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> PostgresServer:
        """initdb a fresh data folder, start the server and wait until it is ready."""
        with self._lock:
            if self._running:
                return self
            if self.bin_dir is None:
                self.bin_dir = find_pg_bin()
            if self.bin_dir is None or not _has_server_binaries(self.bin_dir):
                raise PostgresServerError(
                    "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; "
                    f"install Debian's 'postgresql' package or set {PG_BIN_ENV}"
                )
            try:
                self._make_dirs()
                self._initdb()
                self._start_server()
            except BaseException:
                self._cleanup_dirs()
                raise
            self._running = True
            atexit.register(self.stop)
            return self

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m immediate``) and remove its files.

        Never raises; calling it twice, or before start(), does nothing.
        """
        with self._lock:
            try:
                if self.data_dir is not None and (self.data_dir / "postmaster.pid").exists():
                    self._stop_server()
            except Exception:
                pass
            finally:
                self._running = False
                self._cleanup_dirs()
                try:
                    atexit.unregister(self.stop)
                except Exception:
                    pass

    def pause(self) -> None:
        """Stop the server as an operator would (``pg_ctl stop -m fast``: sessions are
        ended, committed work is kept), keeping its data and port for ``resume``. (An
        immediate stop is a crash, and with this server's durability off it may lose the
        last commits.)"""
        with self._lock:
            if not self._running:
                raise PostgresServerError("the PostgreSQL test server is not running")
            self._run(self._command("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w",
                                    "stop"), timeout=60, what="pg_ctl stop")

    def resume(self) -> None:
        """Start a paused server again on the same port, with the same data."""
        with self._lock:
            if not self._running:
                raise PostgresServerError("the PostgreSQL test server is not running")
            requested, self._requested_port = self._requested_port, self.port
            try:
                self._start_server()
            finally:
                self._requested_port = requested

    def create_database(self, name: str) -> str:
        """Create database ``name`` (owned by ``postgres``) and return its DSN."""
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain SQL identifier: {name!r}")
        if not self._running:
            raise PostgresServerError("the PostgreSQL test server is not running")
        sql = f'CREATE DATABASE "{name}"'
        psql = self._psql()
        if psql is not None:
            result = subprocess.run(
                [
                    psql,
                    "--no-psqlrc",
                    "-X",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    self.host,
                    "-p",
                    str(self.port),
                    "-U",
                    self.user,
                    "-d",
                    "postgres",
                    "-c",
                    sql,
                ],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
                env=self._client_env(),
            )
            if result.returncode != 0:
                raise PostgresServerError(
                    f"{sql} failed: {result.stderr.strip() or result.stdout.strip()}"
                )
        else:
            _run_coroutine(self._execute_with_asyncpg(sql))
        return self.dsn_for(name)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port={self.port}" if self._running else "stopped"
        return f"<PostgresServer {state} data_dir={self.data_dir}>"

    # --------------------------------------------------------------- internal

    def _make_dirs(self) -> None:
        if self._base_parent is not None:
            parent = self._base_parent
        elif self._as_root:
            # The postgres user must be able to traverse every parent folder;
            # root's TMPDIR (e.g. under /root) may not allow that.
            parent = Path("/tmp")
        else:
            parent = Path(tempfile.gettempdir())
        parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.base_dir = Path(tempfile.mkdtemp(prefix="backorders-pg-", dir=parent))
        self.base_dir.chmod(0o755)
        self.data_dir = self.base_dir / "data"
        self.data_dir.mkdir(mode=0o700)
        self.log_file = self.base_dir / "postgres.log"
        self.log_file.touch(mode=0o600)
        if self._as_root:
            try:
                import pwd

                entry = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise PostgresServerError(
                    f"running as root, but there is no '{SYSTEM_USER}' system user "
                    "to run PostgreSQL as (PostgreSQL refuses to run as root)"
                ) from None
            if shutil.which("runuser") is None:
                raise PostgresServerError("running as root, but 'runuser' is not available")
            for path in (self.data_dir, self.log_file):
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def _cleanup_dirs(self) -> None:
        if self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)
        self.base_dir = self.data_dir = self.log_file = None

    def _command(self, program: str, *args: str) -> list[str]:
        assert self.bin_dir is not None
        cmd = [str(self.bin_dir / program), *args]
        if self._as_root:
            cmd = ["runuser", "-u", SYSTEM_USER, "--", *cmd]
        return cmd

    def _server_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env.pop("LANG", None)
        env.pop("LANGUAGE", None)
        return env

    def _client_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGCONNECT_TIMEOUT"] = "10"
        return env

    def _run(self, cmd: list[str], timeout: float, what: str) -> subprocess.CompletedProcess:
        try:
            result = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=self.base_dir,  # the postgres user cannot chdir into e.g. /root
                env=self._server_env(),
            )
        except subprocess.TimeoutExpired as exc:
            raise PostgresServerError(
                f"{what} timed out after {timeout}s: {shlex.join(cmd)}"
            ) from exc
        if result.returncode != 0:
            raise PostgresServerError(
                f"{what} failed (exit {result.returncode}): {shlex.join(cmd)}\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )
        return result

    def _initdb(self) -> None:
        self._run(
            self._command(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ),
            timeout=120,
            what="initdb",
        )

    def _start_server(self) -> None:
        attempts = 1 if self._requested_port else 5
        for attempt in range(attempts):
            self.port = self._requested_port or _free_port(self.host)
            options = [
                "-p", str(self.port),
                "-c", f"listen_addresses={self.host}",
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "max_connections=300",
                "-k", str(self.data_dir),
                *self.extra_options,
            ]
            cmd = self._command(
                "pg_ctl",
                "-D", str(self.data_dir),
                "-l", str(self.log_file),
                "-o", shlex.join(options),
                "-w",
                "-t", str(int(self.start_timeout)),
                "start",
            )
            try:
                self._run(cmd, timeout=self.start_timeout + 15, what="pg_ctl start")
                return
            except PostgresServerError:
                # Another process may have taken the port between our probe
                # and the server's bind: try again with a new one.
                port_taken = "could not bind" in self._log_tail() or "in use" in self._log_tail()
                self._stop_server()
                if attempt + 1 < attempts and port_taken:
                    continue
                raise
        self.port = None

    def _stop_server(self) -> None:
        if self.data_dir is None or self.bin_dir is None:
            return
        try:
            subprocess.run(
                self._command("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=30,
                cwd=self.base_dir,
                env=self._server_env(),
            )
        except (OSError, subprocess.SubprocessError):
            pass
        # If pg_ctl could not stop it, signal the postmaster directly
        # (SIGQUIT is what "-m immediate" sends).
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(pid, signal.SIGQUIT)
        except OSError:
            pass

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_file.read_text(errors="replace") if self.log_file else ""
        except OSError:
            return ""
        tail = "\n".join(text.splitlines()[-lines:])
        return f"\n--- server log ---\n{tail}" if tail else ""

    def _psql(self) -> str | None:
        if self.bin_dir is not None and os.access(self.bin_dir / "psql", os.X_OK):
            return str(self.bin_dir / "psql")
        return shutil.which("psql")

    async def _execute_with_asyncpg(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.dsn, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


def _run_coroutine(coro) -> None:
    """asyncio.run(coro), also when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    thread = threading.Thread(target=runner, name="pgserver-asyncpg")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
