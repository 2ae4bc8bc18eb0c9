"""Subscriptions with a plain selection, rendered without the executor.

Strawberry runs a subscription's selection through the whole executor for every event and
every subscriber (about 0.2 ms each). Most live clients ask for a few scalar fields of the
back order or product, so such a document is compiled once, per distinct query text, into
a projection from row to response (the field tables and compiler of ``fastquery.py``); each
event then costs one call of it. Anything else (named fragments, directives, nested objects
that need loading) takes the normal path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    parse,
    validate,
)
from strawberry.types.execution import ExecutionResult

from api.graphql.errors import _masked
from api.graphql.fastquery import BACK_ORDER, PRODUCT, Env, Fields, NotPlain, projection
from api.graphql.subscriptions import ROW_STREAMS

PYTHON_NAMES = {"sinceVersion": "since_version"}
ROOT_TYPES: dict[str, Fields] = {
    "backOrderUpdated": BACK_ORDER,
    "myBackOrders": BACK_ORDER,
    "productStockChanged": PRODUCT,
    "backOrderQueue": BACK_ORDER,
}


@dataclass
class Plan:
    field: str
    key: str
    arguments: tuple[tuple[str, Any], ...]
    defaults: dict[str, Any]
    project: Callable[[Any, Env], dict[str, Any]]
    _last: tuple[Any, dict[str, Any]] | None = None

    def render(self, row: Any, env: Env) -> dict[str, Any]:
        """Subscribers of one event share its row object: project it once for all of them."""
        last = self._last
        if last is not None and last[0] is row:
            return last[1]
        data = {self.key: self.project(row, env)}
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
        env = Env(context.settings.currency)
        try:
            async for row in ROW_STREAMS[self.field](context, **kwargs):
                yield ExecutionResult(data=self.render(row, env), errors=None)
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
            project, _ = projection(schema, root.selection_set, ROOT_TYPES[name])
        except NotPlain:
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


