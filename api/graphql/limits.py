"""A ceiling on what one operation may cost, checked before anything touches the database.

Cost: every field is 1, and a field's children count as often as it can return them: its
``first`` (a variable counts as the largest page) or, for a plain list, ten.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

LIST_FIELDS = frozenset({"history", "lines", "backOrders", "restocks", "notifications",
                         "attemptLog"})
PLAIN_LIST = 10


def cost_limit(max_cost: int, max_page: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = _cost(node.selection_set, self.context, max_page, set())
            if cost > max_cost:
                self.report_error(GraphQLError(
                    f"this operation could cost {cost}, more than the limit of {max_cost}: "
                    "ask for smaller pages or fewer nested lists",
                    node, extensions={"code": "QUERY_TOO_COSTLY", "cost": cost,
                                      "limit": max_cost}))

    return CostLimit


def _cost(selection: SelectionSetNode | None, context: ValidationContext, max_page: int,
          seen: set[str]) -> int:
    if selection is None:
        return 0
    total = 0
    for node in selection.selections:
        if isinstance(node, FieldNode):
            total += 1 + _multiplier(node, max_page) * _cost(node.selection_set, context,
                                                             max_page, seen)
        elif isinstance(node, InlineFragmentNode):
            total += _cost(node.selection_set, context, max_page, seen)
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
            fragment = context.get_fragment(node.name.value)
            if fragment is not None:
                total += _cost(fragment.selection_set, context, max_page,
                               seen | {node.name.value})
    return total


def _multiplier(node: FieldNode, max_page: int) -> int:
    for argument in node.arguments or ():
        if argument.name.value in ("first", "last"):
            if isinstance(argument.value, IntValueNode):
                return max(min(int(argument.value.value), max_page), 1)
            return max_page
    return PLAIN_LIST if node.name.value in LIST_FIELDS else 1
