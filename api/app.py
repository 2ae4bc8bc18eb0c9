"""The ASGI application: ``create_app(settings)`` builds everything, the lifespan opens it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from api import graphiql, metrics, tracing
from api.domain.revocation import Revocations
from api.exports import demand_csv
from api.gateway import Gateway
from api.graphql.schema import build_schema
from api.graphql.view import GraphQLView
from api.notifications.setup import dispatcher_from
from api.ratelimit import RateLimits
from api.realtime.bus import EventBus
from api.realtime.collector import Collector
from api.realtime.hub import Hub
from api.realtime.relay import OutboxRelay
from api.realtime.revocations import RevocationPoller
from api.scheduling.sweeper import Sweeper
from api.services import holding, payments
from api.settings import Settings
from api.store.database import check_writes, config_of, is_postgres, missing_migrations
from api.store.leadership import Leadership
from api.store.outages import OUTAGES, outage_of
from api.webhooks.setup import webhooks_from


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    traced = tracing.start_from_environment()  # off unless OTEL_* ask for an exporter
    hub = Hub(queue_size=settings.subscriber_queue)
    bus = EventBus(settings.broadcast_url, hub)
    relay = OutboxRelay(bus, postgres=is_postgres(settings.database_url))
    revocations = Revocations()
    poller = RevocationPoller(revocations, settings.revocation_poll_seconds)
    dispatcher = dispatcher_from(settings) if settings.dispatcher == "inprocess" else None
    # One instance per database exports the gauges counted in it (api/metrics.py).
    gauges = Leadership(settings.database_url)
    webhooks = webhooks_from(settings) if settings.dispatcher == "inprocess" else None

    def after_mutation() -> None:
        relay.wake()
        if dispatcher is not None:
            dispatcher.wake()
        if webhooks is not None:
            webhooks.wake()

    holding.configure(settings.holds)  # (a hold may be offered by any mutation)
    payments.configure(settings.authorizations)  # (and any may authorize a payment)
    sweeper = (Sweeper(settings.sweep_seconds, settings.compensation, after_mutation)
               if settings.dispatcher == "inprocess" else None)
    limits = RateLimits(settings)
    schema = build_schema(settings)
    graphql = GraphQLView(schema, settings, hub=hub,
                          after_mutation=after_mutation, limiter=limits,
                          revocations=revocations)
    collector = Collector(settings.gc_settle_seconds, lambda: len(graphql.websockets),
                          lambda: graphql.closed_websockets)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=config_of(settings)):
            await poller.start()
            await bus.start()
            await relay.start()
            if dispatcher is not None:
                await dispatcher.start()
            if webhooks is not None:
                await webhooks.start()
            if sweeper is not None:
                await sweeper.start()
            collector.start()
            try:
                yield
            finally:
                await collector.stop()
                if sweeper is not None:
                    await sweeper.stop()
                if webhooks is not None:
                    await webhooks.stop()
                if dispatcher is not None:
                    await dispatcher.stop()
                await relay.stop()
                await bus.stop()
                await poller.stop()
                await graphql.persisted.close()
                await gauges.release()

    async def healthz(request: Request) -> JSONResponse:
        # The process that answered: with `serve --workers N`, one of N (api/server.py).
        return JSONResponse({"status": "ok", "pid": os.getpid()})

    async def readyz(request: Request) -> JSONResponse:
        try:
            missing = await missing_migrations()
            if not missing:
                await check_writes()
        except Exception as exc:  # the reason is the answer
            outage = outage_of(exc)
            if outage is not None:
                OUTAGES.failed(outage)
            return JSONResponse({"status": "unavailable", "reason": f"database: {exc}"},
                                status_code=503)
        OUTAGES.recovered()
        if missing:
            return JSONResponse({"status": "unavailable", "reason": "migrations not applied: "
                                 + ", ".join(sorted(missing))}, status_code=503)
        if not bus.connected.is_set():
            return JSONResponse({"status": "unavailable", "reason": "event bus not connected"},
                                status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics_page(request: Request) -> Response:
        body = await metrics.render(hub.subscriptions, exporter=await gauges.held())
        return Response(body, media_type=metrics.CONTENT_TYPE_LATEST)

    async def demand_export(request: Request) -> Response:
        return await demand_csv(request, settings.currency)

    async def home(request: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_page),
            *([Route(graphiql.PREFIX + "/{version}/{name}", graphiql.asset)]
              if settings.graphiql_on else []),
            Route("/reports/demand.csv", demand_export),
        ],
        # The request's span (only while tracing is on: api/tracing.py), then request id
        # and log line, CORS, body limit, rate limit, token: see api/gateway.py.
        middleware=[*([Middleware(tracing.HttpSpans)] if traced else []),
                    Middleware(Gateway, graphql=graphql, settings=settings,
                               limits=limits, revocations=revocations)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.hub = hub
    app.state.relay = relay
    app.state.webhooks = webhooks
    app.state.sweeper = sweeper
    app.state.revocations = revocations
    app.state.graphql_view = graphql
    return app
