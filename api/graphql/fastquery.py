"""Plain documents answered without the GraphQL executor.

Strawberry's executor costs about 10 µs per field it resolves: a ``product(sku)`` read
spends most of its time there, and a page of 100 back orders with their product and order
(about 2,500 fields) spends 25 ms. Most clients send a handful of fixed documents, so a
document is looked at once, per distinct text: if it is valid (the schema's own rules and
limits) and *plain* (one root field we know, no named fragments, no directives, only fields
whose value comes straight from the rows), it is compiled into a Python function that turns
rows into the response, the way the executor would. Anything else goes to the executor.

This path only ever answers successes. Any error at all (a missing token, a bad argument,
an out-of-stock order) is left to the executor, which runs the operation again and gives
the typed error: a query has no effects, and a failed ``placeOrder`` changed nothing (it
rolls back; one that committed replays by its idempotency key). The rate limiter is told
that the request was counted already.

The field tables here describe the same fields as ``types.py`` (a test compares every
field both ways): a change to one is a change to the other.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values

from api.domain.errors import RateLimited
from api.domain.identity import Actor, require_actor
from api.graphql.loaders import products_by_id
from api.services import ordering, reads
from api.services.clock import utcnow
from api.store.models import Order, Product


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _availability(product: Product) -> str:
    return reads.product_availability(product, utcnow().date()).value


@dataclass(frozen=True)
class Leaf:
    """A scalar: a Python expression over the row ``r`` (and ``env``, the request's)."""

    expr: str


@dataclass(frozen=True)
class Nested:
    """An object (or a list of them, or null) whose row is ``expr`` of the parent row."""

    expr: str
    fields: Mapping[str, Leaf | Nested]
    many: bool = False
    nullable: bool = False
    needs: str | None = None
    """What the request must have loaded first (``products``, ``orders``)."""


def typename(name: str) -> Leaf:
    return Leaf(repr(name))


Fields = dict[str, Leaf | Nested]

MONEY: Fields = {"__typename": typename("Money"), "amount": Leaf("str(r[0])"),
                 "currency": Leaf("r[1]")}
CUSTOMER: Fields = {"__typename": typename("Customer"), "id": Leaf("r.customer_id")}
STOCK: Fields = {
    "__typename": typename("Stock"),
    "onHand": Leaf("r.on_hand"),
    "allocated": Leaf("r.allocated"),
    "available": Leaf("r.on_hand - r.allocated"),
    "backordered": Leaf("r.waiting"),
}
POLICY: Fields = {
    "__typename": typename("BackorderPolicy"),
    "allowBackorders": Leaf("r.allow_backorders"),
    "backorderCap": Leaf("r.cap"),
    "leadTimeDays": Leaf("r.lead_time_days"),
    "handlingDays": Leaf("r.handling_days"),
    "releaseDate": Leaf("_iso(r.release_date)"),
    "delayGraceDays": Leaf("r.delay_grace_days"),
    "lowStockThreshold": Leaf("r.low_stock_threshold"),
}
PRODUCT: Fields = {
    "__typename": typename("Product"),
    "id": Leaf("str(r.id)"),
    "sku": Leaf("r.sku"),
    "name": Leaf("r.name"),
    "digital": Leaf("r.digital"),
    "discontinued": Leaf("r.discontinued"),
    "version": Leaf("r.version"),
    "availability": Leaf("_availability(r)"),
    "price": Nested("(r.price, env.currency)", MONEY),
    "stock": Nested("r", STOCK),
    "policy": Nested("r.policy", POLICY),
}
ORDER: Fields = {
    "__typename": typename("Order"),
    "id": Leaf("str(r.id)"),
    "idempotencyKey": Leaf("r.idempotency_key"),
    "placedAt": Leaf("_iso(r.placed_at)"),
    "customer": Nested("r", CUSTOMER),
    "amountCharged": Nested("(r.amount_charged, r.currency)", MONEY),
    "amountRefunded": Nested("(r.amount_refunded, r.currency)", MONEY),
}
BACK_ORDER: Fields = {
    "__typename": typename("BackOrder"),
    "id": Leaf("str(r.id)"),
    "status": Leaf("r.status.value"),
    "quantity": Leaf("r.quantity"),
    "allocatedQuantity": Leaf("r.allocated"),
    "remainingQuantity": Leaf("r.quantity - r.allocated"),
    "queuePosition": Leaf("r.queue_position"),
    "unitsAhead": Leaf("r.units_ahead"),
    "estimatedShipDate": Leaf("_iso(r.estimated_ship_date)"),
    "estimateIsScheduled": Leaf("r.estimate_scheduled"),
    "promisedDate": Leaf("_iso(r.promised_date)"),
    "delayed": Leaf("r.delayed"),
    "priority": Leaf("r.priority"),
    "placedAt": Leaf("_iso(r.placed_at)"),
    "trackingCode": Leaf("r.tracking_code"),
    "version": Leaf("r.version"),
    "unitPrice": Nested("(r.unit_price, env.currency)", MONEY),
    "refundedAmount": Nested("(r.refunded_amount, env.currency)", MONEY),
    "customer": Nested("r", CUSTOMER),
    "product": Nested("env.products[r.product_id]", PRODUCT, needs="products"),
    "order": Nested("env.orders[r.order_id]", ORDER, needs="orders"),
}
PAGE_INFO: Fields = {
    "__typename": typename("PageInfo"),
    "hasNextPage": Leaf("r.has_next"),
    "hasPreviousPage": Leaf("r.has_previous"),
    "startCursor": Leaf("r.cursors[0] if r.cursors else None"),
    "endCursor": Leaf("r.cursors[-1] if r.cursors else None"),
}


def connection(name: str, node: Mapping[str, Leaf | Nested]) -> dict[str, Leaf | Nested]:
    """A Relay connection over a ``reads.Page`` (``totalCount`` is left to the executor)."""
    edge: Fields = {"__typename": typename(f"{name}Edge"), "cursor": Leaf("r[1]"),
            "node": Nested("r[0]", node)}
    return {
        "__typename": typename(f"{name}Connection"),
        "edges": Nested("zip(r.items, r.cursors)", edge, many=True),
        "pageInfo": Nested("r", PAGE_INFO),
    }


BACK_ORDER_CONNECTION = connection("BackOrder", BACK_ORDER)
PLACE_ORDER_PAYLOAD: Fields = {
    "__typename": typename("PlaceOrderPayload"),
    "replayed": Leaf("r.replayed"),
    "order": Nested("r.order", ORDER),
}


class NotPlain(Exception):
    """The document needs the executor."""


class Committed(Exception):
    """A mutation committed, then answering it failed: not one for the executor to redo."""


@dataclass
class Env:
    """What a projection may use besides its row."""

    currency: str
    needs: frozenset[str] = frozenset()
    products: dict[int, Product] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)


HELPERS = {"_iso": _iso, "_availability": _availability, "str": str, "zip": zip}


class _Writer:
    """Writes one function per selection set, each returning a dict display."""

    def __init__(self, schema: GraphQLSchema, allowed_needs: frozenset[str]) -> None:
        self.schema = schema
        self.allowed = allowed_needs
        self.lines: list[str] = []
        self.needs: set[str] = set()
        self.count = 0

    def function(self, selection: SelectionSetNode | None,
                 fields: Mapping[str, Leaf | Nested]) -> str:
        if selection is None:
            raise NotPlain
        items: list[str] = []
        self._items(selection, fields, items, set())
        name = f"_f{self.count}"
        self.count += 1
        self.lines.append(f"def {name}(r, env):\n    return {{{', '.join(items)}}}\n")
        return name

    def _items(self, selection: SelectionSetNode, fields: Mapping[str, Leaf | Nested],
               items: list[str], seen: set[str]) -> None:
        for node in selection.selections:
            if isinstance(node, InlineFragmentNode) and not node.directives:
                if self._applies(node, fields):
                    self._items(node.selection_set, fields, items, seen)
                continue
            if not isinstance(node, FieldNode) or node.directives or node.arguments:
                raise NotPlain
            key = node.alias.value if node.alias else node.name.value
            if key in seen:  # merged selections are the executor's business
                raise NotPlain
            seen.add(key)
            items.append(f"{key!r}: {self._value(node, fields.get(node.name.value))}")

    def _applies(self, node: InlineFragmentNode, fields: Mapping[str, Leaf | Nested]) -> bool:
        """Whether a fragment applies to the type these fields describe. Validation has
        made sure it could apply to some possible type: one that does not apply to this
        one (``... on OutOfStockError`` beside a payload) selects nothing here."""
        if node.type_condition is None:
            return True
        own = self.schema.get_type(_type_name(fields))
        condition = self.schema.get_type(node.type_condition.name.value)
        if own is None or condition is None:
            raise NotPlain
        if condition is own:
            return True
        return isinstance(condition, GraphQLInterfaceType | GraphQLUnionType) and (
            self.schema.is_sub_type(condition, own))

    def _value(self, node: FieldNode, spec: Leaf | Nested | None) -> str:
        if isinstance(spec, Leaf) and node.selection_set is None:
            return spec.expr
        if not isinstance(spec, Nested) or node.selection_set is None:
            raise NotPlain
        if spec.needs is not None:
            if spec.needs not in self.allowed:
                raise NotPlain
            self.needs.add(spec.needs)
        inner = self.function(node.selection_set, spec.fields)
        if spec.many:
            return f"[{inner}(x, env) for x in {spec.expr}]"
        if spec.nullable:
            return f"(None if (x := {spec.expr}) is None else {inner}(x, env))"
        return f"{inner}({spec.expr}, env)"

    def build(self, name: str) -> Callable[[Any, Any], dict[str, Any]]:
        namespace: dict[str, Any] = dict(HELPERS)
        exec("\n".join(self.lines), namespace)  # our own field tables only
        return namespace[name]  # type: ignore[no-any-return]


def _type_name(fields: Mapping[str, Leaf | Nested]) -> str:
    """The GraphQL type a field table describes (its ``__typename``)."""
    spec = fields["__typename"]
    assert isinstance(spec, Leaf)
    return str(ast.literal_eval(spec.expr))


def projection(schema: GraphQLSchema, selection: SelectionSetNode | None,
               fields: Mapping[str, Leaf | Nested],
               allowed_needs: frozenset[str] = frozenset()
               ) -> tuple[Callable[[Any, Any], dict[str, Any]], frozenset[str]]:
    """A function of (row, env) giving the response for ``selection``; raises NotPlain.

    Keys are GraphQL names (``[_A-Za-z][_0-9A-Za-z]*``), written with ``repr``; every
    expression comes from the tables above, never from the document.
    """
    writer = _Writer(schema, allowed_needs)
    name = writer.function(selection, fields)
    return writer.build(name), frozenset(writer.needs)


ORDER_RATE_COUNTED = "order_rate_counted"
"""Request state: this request's placeOrder was counted by the rate limiter already."""


@dataclass(frozen=True)
class Request:
    actor: Actor | None
    max_page_size: int
    currency: str
    limiter: Any = None
    address: str = "unknown"
    state: dict[str, Any] | None = None
    """The HTTP request's state (scope["state"])."""
    after_mutation: Callable[[], None] | None = None


async def _product(arguments: dict[str, Any], request: Request, env: Env) -> Any:
    return await reads.get_product(arguments["sku"])


async def _back_orders(arguments: dict[str, Any], request: Request, env: Env) -> Any:
    actor = require_actor(request.actor)
    size = reads.page_size(arguments["first"], request.max_page_size)
    page = await reads.list_back_orders(
        actor, size, arguments["after"], sku=arguments["sku"], statuses=arguments["status"],
        customer_id=arguments["customerId"], sort=arguments["orderBy"],
        with_orders="orders" in env.needs, light=True)
    env.orders = page.orders
    if "products" in env.needs:
        env.products = {p.id: p for p in await products_by_id(
            row.product_id for row in page.items)}
    return page


async def _place_order(arguments: dict[str, Any], request: Request, env: Env) -> Any:
    """As ``Mutation.place_order``. If it fails, the executor runs it again and words the
    error; the rate limiter is told not to count the same request twice."""
    given = arguments["input"]
    if request.limiter is not None and request.actor is not None:
        try:
            await request.limiter.check_order(request.actor.subject, request.address)
        except RateLimited as exc:  # one of its two counters may have counted already
            if request.state is not None:
                request.state[ORDER_RATE_COUNTED] = exc
            raise
        if request.state is not None:
            request.state[ORDER_RATE_COUNTED] = True
    return await ordering.place_order(
        request.actor,
        [ordering.LineRequest(line["sku"], line["quantity"]) for line in given["lines"]],
        given["idempotencyKey"],
        request.currency,
        customer_id=given["customerId"],
        priority=given["priority"],
    )


@dataclass(frozen=True)
class Root:
    load: Callable[[dict[str, Any], Request, Env], Any]
    fields: Mapping[str, Leaf | Nested]
    nullable: bool
    needs: frozenset[str] = frozenset()


ROOTS = {
    (OperationType.QUERY, "product"): Root(_product, PRODUCT, nullable=True),
    (OperationType.QUERY, "backOrders"): Root(
        _back_orders, BACK_ORDER_CONNECTION, nullable=False,
        needs=frozenset({"products", "orders"})),
    (OperationType.MUTATION, "placeOrder"): Root(
        _place_order, PLACE_ORDER_PAYLOAD, nullable=False),
}


@dataclass
class QueryPlan:
    schema: GraphQLSchema
    operation: OperationDefinitionNode
    root: FieldNode
    load: Callable[[dict[str, Any], Request, Env], Any]
    project: Callable[[Any, Any], dict[str, Any]]
    needs: frozenset[str]
    nullable: bool
    label: str
    mutation: bool = False

    async def run(self, variables: dict[str, Any] | None, request: Request) -> dict[str, Any]:
        """The response's ``data``; raises on anything the executor should answer."""
        values = get_variable_values(self.schema, self.operation.variable_definitions or (),
                                     variables or {})
        if isinstance(values, list):  # bad variables: the executor words the error
            raise NotPlain
        root_type = (self.schema.mutation_type if self.mutation else self.schema.query_type)
        assert root_type is not None
        arguments = get_argument_values(root_type.fields[self.root.name.value], self.root,
                                        values)
        env = Env(request.currency, self.needs)
        row = await self.load(arguments, request, env)
        if not self.mutation:
            return self._answer(row, env)
        try:  # committed: answering it again would say "replayed"
            if request.after_mutation is not None:
                request.after_mutation()
            return self._answer(row, env)
        except Exception as exc:
            raise Committed from exc

    def _answer(self, row: Any, env: Env) -> dict[str, Any]:
        key = self.root.alias.value if self.root.alias else self.root.name.value
        if row is None:
            if not self.nullable:
                raise NotPlain
            return {key: None}
        return {key: self.project(row, env)}


def query_planner(schema: GraphQLSchema, rules: tuple[Any, ...], max_tokens: int
                  ) -> Callable[[str, str | None], QueryPlan | None]:
    """Plans by (document, operation name); None for a document the executor must run."""
    all_rules = (*specified_rules, *rules)

    def plan(query: str, operation_name: str | None) -> QueryPlan | None:
        try:
            document = parse(query, max_tokens=max_tokens)
        except GraphQLError:
            return None
        if len(document.definitions) != 1 or validate(schema, document, all_rules):
            return None
        [operation] = document.definitions
        if (not isinstance(operation, OperationDefinitionNode)
                or operation.operation not in (OperationType.QUERY, OperationType.MUTATION)
                or operation.directives
                or (operation_name is not None and (
                    operation.name is None or operation.name.value != operation_name))
                or len(operation.selection_set.selections) != 1):
            return None
        [root] = operation.selection_set.selections
        if not isinstance(root, FieldNode) or root.directives:
            return None
        spec = ROOTS.get((operation.operation, root.name.value))
        if spec is None:
            return None
        try:
            project, needs = projection(schema, root.selection_set, spec.fields, spec.needs)
        except NotPlain:
            return None
        kind = operation.operation.value
        return QueryPlan(schema, operation, root, spec.load, project, needs, spec.nullable,
                         f"{kind}:{root.name.value}", operation.operation is OperationType.MUTATION)

    return plan
