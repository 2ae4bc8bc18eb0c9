"""A ceiling on what one operation may cost, checked before anything touches the database.

Cost: every field is 1, and a field's children count as often as it can return them: its
``first`` or ``last`` (a variable counts as the largest page), or, for a field whose type is
a list, ten. A list directly inside a paginated field (a connection's ``edges``) is counted
by that field's page size already. Which fields are lists comes from the schema's types.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)

PLAIN_LIST = 10
PAGE_ARGUMENTS = ("first", "last")


def cost_limit(max_cost: int, max_page: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            root = self.context.schema.get_root_type(node.operation)
            walk = _Walk(self.context, max_page)
            cost = walk.cost(node.selection_set, root, paged=False, seen=frozenset())
            if cost > max_cost:
                self.report_error(GraphQLError(
                    f"this operation could cost {cost}, more than the limit of {max_cost}: "
                    "ask for smaller pages or fewer nested lists",
                    node, extensions={"code": "QUERY_TOO_COSTLY", "cost": cost,
                                      "limit": max_cost}))

    return CostLimit


class _Walk:
    def __init__(self, context: ValidationContext, max_page: int) -> None:
        self.context = context
        self.max_page = max_page

    def cost(self, selection: SelectionSetNode | None, parent: Any, paged: bool,
             seen: frozenset[str]) -> int:
        if selection is None:
            return 0
        total = 0
        for node in selection.selections:
            if isinstance(node, FieldNode):
                total += self.field(node, parent, paged, seen)
            elif isinstance(node, InlineFragmentNode):
                total += self.cost(node.selection_set, self._condition(node, parent), paged,
                                   seen)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                fragment = self.context.get_fragment(node.name.value)
                if fragment is not None:
                    total += self.cost(fragment.selection_set, self._condition(fragment,
                                                                              parent),
                                       paged, seen | {node.name.value})
        return total

    def field(self, node: FieldNode, parent: Any, paged: bool, seen: frozenset[str]) -> int:
        definition = getattr(parent, "fields", {}).get(node.name.value)
        field_type = definition.type if definition is not None else None
        page = self._page(node)
        if page is not None:
            multiplier = page
        elif _is_list(field_type) and not paged:
            multiplier = PLAIN_LIST
        else:
            multiplier = 1
        child = get_named_type(field_type) if field_type is not None else None
        return 1 + multiplier * self.cost(node.selection_set, child, page is not None, seen)

    def _page(self, node: FieldNode) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value in PAGE_ARGUMENTS:
                if isinstance(argument.value, IntValueNode):
                    return max(min(int(argument.value.value), self.max_page), 1)
                return self.max_page
        return None

    def _condition(self, node: Any, parent: Any) -> GraphQLNamedType | None:
        if node.type_condition is None:
            return parent  # type: ignore[no-any-return]
        return self.context.schema.get_type(node.type_condition.name.value)


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)
