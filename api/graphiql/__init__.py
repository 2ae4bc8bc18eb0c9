"""GraphiQL served by the service itself: the page on ``GET /graphql`` (rendered by the view's
``render_graphql_ide``) and its files on ``/graphql/ide/<version>/<name>``, nothing from a CDN.

``assets/`` holds the prebuilt bundles of the pinned npm packages (written by
``scripts/refresh-graphiql``, each file's sha256 in ``assets/manifest.json``); ``start.js``
and ``page.css`` beside this module are ours. The version in the path is derived from the
files' contents, so a file can be cached for a year and a new release is a new path.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

HERE = Path(__file__).parent
ASSETS = HERE / "assets"
PREFIX = "/graphql/ide"
OWN = ("start.js", "page.css")
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
CACHE_FOREVER = "public, max-age=31536000, immutable"
DIALOG_STYLE = "sha256-nzTgYzXYDNe6BAHiiI7NNlfK8n/auuOAhh2t92YvuXo="
"""The scroll lock's style element (react-remove-scroll in GraphiQL's bundle), as Chromium
reports it when refused; the browser test opens a dialog and fails on a refusal."""
POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    # and the one <style> GraphiQL's dialogs add while open (their scroll lock), by its hash.
    f"style-src 'self' '{DIALOG_STYLE}'",
    # GraphiQL's stylesheet carries its fonts and a few icons as data: URLs.
    "img-src 'self' data:",
    "font-src 'self' data:",
    # The same origin over HTTP and the websocket (graphql-transport-ws on /graphql).
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
))
"""The IDE page's Content-Security-Policy: its own files only, no inline script or style."""
PAGE_HEADERS = {"Content-Security-Policy": POLICY, "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True)
class Files:
    version: str
    bodies: dict[str, bytes]
    page: bytes


def vendored() -> dict[str, str]:
    """Served name -> sha256 of the vendored files, as the manifest lists them."""
    manifest = json.loads((ASSETS / "manifest.json").read_text())
    return {name: entry["sha256"] for name, entry in manifest["files"].items()}


@functools.cache
def files() -> Files:
    """Read once, at the first request that needs them (not at import)."""
    bodies = {name: (ASSETS / name).read_bytes() for name in vendored()}
    bodies.update({name: (HERE / name).read_bytes() for name in OWN})
    digest = hashlib.sha256()
    for name in sorted(bodies):
        digest.update(name.encode() + b"\0" + hashlib.sha256(bodies[name]).digest())
    version = digest.hexdigest()[:16]
    page = (HERE / "page.html").read_text().replace("{{base}}", f"{PREFIX}/{version}")
    return Files(version, bodies, page.encode())


def page() -> HTMLResponse:
    return HTMLResponse(files().page, headers=PAGE_HEADERS)


async def asset(request: Request) -> Response:
    """One file of the IDE; 404 for another version (an old page after a release)."""
    known = files()
    name = request.path_params["name"]
    body = known.bodies.get(name)
    if request.path_params["version"] != known.version or body is None:
        return Response("not found", status_code=404, media_type="text/plain",
                        headers={"Cache-Control": "no-store"})
    return Response(body, media_type=TYPES[Path(name).suffix], headers={
        "Cache-Control": CACHE_FOREVER, "X-Content-Type-Options": "nosniff"})
