"""Subscriptions with a plain selection, rendered without the executor.

Strawberry runs a subscription's selection through the whole executor for every event and
every subscriber (about 0.2 ms each). Most live clients ask for a few scalar fields of the
back order or product, so such a document is compiled once, per distinct query text, into
a projection from row to response; each event then costs a dict comprehension. Anything
else (fragments, directives, nested objects that need loading) takes the normal path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    parse,
    validate,
)
from strawberry.types.execution import ExecutionResult

from api.graphql.errors import _masked
from api.graphql.subscriptions import ROW_STREAMS
from api.services.clock import utcnow
from api.services.reads import product_availability

Getter = Callable[[Any], Any]
PYTHON_NAMES = {"sinceVersion": "since_version"}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


BACK_ORDER: dict[str, Getter] = {
    "__typename": lambda r: "BackOrder",
    "id": lambda r: str(r.id),
    "status": lambda r: r.status.value,
    "quantity": lambda r: r.quantity,
    "allocatedQuantity": lambda r: r.allocated,
    "remainingQuantity": lambda r: r.quantity - r.allocated,
    "queuePosition": lambda r: r.queue_position,
    "unitsAhead": lambda r: r.units_ahead,
    "estimatedShipDate": lambda r: _iso(r.estimated_ship_date),
    "estimateIsScheduled": lambda r: r.estimate_scheduled,
    "promisedDate": lambda r: _iso(r.promised_date),
    "delayed": lambda r: r.delayed,
    "priority": lambda r: r.priority,
    "placedAt": lambda r: _iso(r.placed_at),
    "trackingCode": lambda r: r.tracking_code,
    "version": lambda r: r.version,
}
STOCK: dict[str, Getter] = {
    "__typename": lambda r: "Stock",
    "onHand": lambda r: r.on_hand,
    "allocated": lambda r: r.allocated,
    "available": lambda r: r.on_hand - r.allocated,
    "backordered": lambda r: r.waiting,
}
PRODUCT: dict[str, Getter | dict[str, Getter]] = {
    "__typename": lambda r: "Product",
    "id": lambda r: str(r.id),
    "sku": lambda r: r.sku,
    "name": lambda r: r.name,
    "digital": lambda r: r.digital,
    "discontinued": lambda r: r.discontinued,
    "version": lambda r: r.version,
    "availability": lambda r: product_availability(r, utcnow().date()).value,
    "stock": STOCK,
}
ROOT_TYPES: dict[str, dict[str, Any]] = {
    "backOrderUpdated": BACK_ORDER,
    "myBackOrders": BACK_ORDER,
    "productStockChanged": PRODUCT,
    "backOrderQueue": BACK_ORDER,
}


class _NotPlain(Exception):
    """The selection needs the executor."""


def _projection(selection: SelectionSetNode | None,
                fields: dict[str, Any]) -> Callable[[Any], dict[str, Any]]:
    if selection is None:
        raise _NotPlain
    parts: list[tuple[str, Callable[[Any], Any]]] = []
    for node in selection.selections:
        if not isinstance(node, FieldNode) or node.directives or node.arguments:
            raise _NotPlain
        spec = fields.get(node.name.value)
        key = node.alias.value if node.alias else node.name.value
        if callable(spec) and node.selection_set is None:
            parts.append((key, spec))
        elif isinstance(spec, dict) and node.selection_set is not None:
            parts.append((key, _projection(node.selection_set, spec)))
        else:
            raise _NotPlain
    return lambda row: {key: get(row) for key, get in parts}


@dataclass
class Plan:
    field: str
    key: str
    arguments: tuple[tuple[str, Any], ...]
    defaults: dict[str, Any]
    project: Callable[[Any], dict[str, Any]]
    _last: tuple[Any, dict[str, Any]] | None = None

    def render(self, row: Any) -> dict[str, Any]:
        """Subscribers of one event share its row object: project it once for all of them."""
        last = self._last
        if last is not None and last[0] is row:
            return last[1]
        data = {self.key: self.project(row)}
        self._last = (row, data)
        return data

    async def run(self, context: Any, variables: dict[str, Any] | None) -> AsyncIterator[
            ExecutionResult]:
        values = {**self.defaults, **(variables or {})}
        kwargs = {
            PYTHON_NAMES.get(name, name): values.get(value.name.value)
            if isinstance(value, VariableNode) else value
            for name, value in self.arguments
        }
        try:
            async for row in ROW_STREAMS[self.field](context, **kwargs):
                yield ExecutionResult(data=self.render(row), errors=None)
        except GraphQLError as error:
            yield ExecutionResult(data=None, errors=[error])
        except Exception as exc:  # masked like the executor's unexpected errors
            yield ExecutionResult(data=None, errors=[_masked(GraphQLError(str(exc)), exc)])


def _literal(node: Any) -> Any:
    if isinstance(node, IntValueNode):
        return int(node.value)
    return getattr(node, "value", None)


def compiler(schema: GraphQLSchema) -> Callable[[str | None, str | None], Plan | None]:
    @lru_cache(maxsize=512)
    def compile_plan(query: str | None, operation_name: str | None) -> Plan | None:
        if not query:
            return None
        try:
            document = parse(query)
        except GraphQLError:
            return None
        if len(document.definitions) != 1 or validate(schema, document):
            return None
        [operation] = document.definitions
        if (not isinstance(operation, OperationDefinitionNode)
                or operation.operation is not OperationType.SUBSCRIPTION
                or operation.directives
                or (operation_name and (operation.name is None
                                        or operation.name.value != operation_name))
                or len(operation.selection_set.selections) != 1):
            return None
        [root] = operation.selection_set.selections
        if not isinstance(root, FieldNode) or root.directives:
            return None
        name = root.name.value
        if name not in ROOT_TYPES:
            return None
        try:
            project = _projection(root.selection_set, ROOT_TYPES[name])
        except _NotPlain:
            return None
        arguments = tuple(
            (arg.name.value, arg.value if isinstance(arg.value, VariableNode)
             else _literal(arg.value))
            for arg in root.arguments or ()
        )
        defaults = {
            d.variable.name.value: getattr(d.default_value, "value", None)
            for d in operation.variable_definitions or () if d.default_value is not None
        }
        key = root.alias.value if root.alias else name
        return Plan(name, key, arguments, defaults, project)

    return compile_plan


