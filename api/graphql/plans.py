"""Compiled plans: how the executor completes an object whose selection is plain.

Strawberry's executor costs about 10 µs per field it resolves; a page of 100 back orders
with their product and order is about 2,500 fields. Most clients send a handful of fixed
documents, so this module plugs into graphql-core's own seam for it, the executor class
(``Schema(execution_context_class=...)``): when the executor is about to complete an object
(``complete_object_value``), the selection on that object is compiled once into a Python
function of (object, context) that returns the completed value, and that function answers
instead of resolving field by field.

Everything else stays the executor's: parsing, validation with every limit, variable
coercion, the root fields' resolvers (so authorisation, rate limits and the use case run
exactly once), error handling, extensions, metrics and after-commit work; over HTTP and
both websocket protocols alike. A selection the plans cannot answer (a field that takes
arguments or loads a list, an abstract type, ``@defer``) is completed by the executor, whose
child objects may be planned again.

Field values come from the declarations in ``types.py`` (``fields.py`` says how): a plan
and the executor's resolvers are made from the same text. Serialisation follows the field's
GraphQL type, as the executor's does. A plan never produces an error: where the executor
would (a null in a non-null field), or where it needs something it does not have (a row no
read put aside), it hands the object back to the executor (counted ``executor``); one that
raises anything else is logged with a reference and counted ``failed``, and the executor
answers.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    get_argument_values,
    get_named_type,
    get_operation_ast,
    get_variable_values,
    is_abstract_type,
    located_error,
    visit,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues
from graphql.language import DirectiveNode, Visitor
from graphql.pyutils import Path, is_awaitable
from prometheus_client import Counter
from strawberry import ID
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info as StrawberryInfo

from api.graphql import fields
from api.graphql.fields import Column, Known

log = logging.getLogger("backorders.plans")

PLAN_COMPLETIONS = Counter(
    "backorders_plan_completions_total",
    "Objects completed by a compiled plan (planned), handed back to the executor "
    "(executor), failed in a plan (failed), or whose selection no plan answers "
    "(unplannable, counted once per distinct selection)", ["type", "outcome"])


ROOT_PLANS = Counter(
    "backorders_root_plans_total",
    "Ready queries answered by the root plan (answered), handed to the executor before "
    "their resolver ran (executor), or after it, whose value a plan could not complete "
    "(read_again)", ["outcome"])
ROOT_ANSWERED, ROOT_EXECUTOR, ROOT_READ_AGAIN = (
    ROOT_PLANS.labels(outcome) for outcome in ("answered", "executor", "read_again"))


def plan_meters(type_name: str) -> tuple[Any, Any, Any]:
    return tuple(PLAN_COMPLETIONS.labels(type_name, outcome)  # type: ignore[return-value]
                 for outcome in ("planned", "executor", "failed"))

_R_ATTRIBUTE = re.compile(r"(?<![\w.])r\.(\w+)")
_R_ANY = re.compile(r"(?<![\w.])r\b")

IDENTITY_SCALARS = frozenset({"Int", "Float", "String", "Boolean"})
"""Scalars whose values our rows hold as the JSON value itself (the differential test
checks that against the executor's ``serialize``)."""


class Unplanned(Exception):
    """This object needs the executor: a null where the schema says non-null, or a row no
    read of this request put aside."""


class NotPlain(Exception):
    """The selection cannot be compiled."""


def _nn(value: Any) -> Any:
    if value is None:
        raise Unplanned
    return value


def _known(rows: dict[Any, Any], key: Any) -> Any:
    row = rows.get(key)
    if row is None:
        raise Unplanned
    return row


@dataclass
class Plan:
    type_name: str
    project: Callable[[Any, Any], dict[str, Any]]
    personal: bool
    """Reads the request (the actor, its loaders): a subscription event is not shared."""
    reads: dict[str, frozenset[str] | None] = field(default_factory=dict)
    """Per object type below this one, the attributes of its objects the plan reads (None:
    more than attributes, the whole object); a root resolver may read only those."""
    last: tuple[Any, dict[str, Any]] | None = None
    meters: tuple[Any, Any, Any] = field(default=(None, None, None))


class _Writer:
    """Writes one function per object selection, each returning a dict display."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.lines: list[str] = []
        self.names: dict[str, Any] = {**fields.NAMES, "_nn": _nn, "_known": _known,
                                      "Unplanned": Unplanned}
        self.count = 0
        self.personal = False
        self.reads: dict[str, set[str] | None] = {}

    def note(self, type_name: str, expr: str) -> None:
        """The attributes of ``r`` that ``expr`` reads, for ``Plan.reads``."""
        names = _R_ATTRIBUTE.findall(expr)
        known = self.reads.setdefault(type_name, set())
        if len(_R_ANY.findall(expr)) != len(names):
            self.reads[type_name] = None  # ``r`` itself goes somewhere
        elif known is not None:
            known.update(names)

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def selection(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> str:
        ex = self.executor
        grouped, deferred, _ = collect_subfields(
            ex.schema, ex.fragments, ex.variable_values, ex.operation, object_type, details,
            ex.hide_suggestions)
        if deferred:
            raise NotPlain
        items = []
        self.reads.setdefault(object_type.name, set())
        for key, group in grouped.items():
            items.append(f"{key!r}: {self.field(object_type, group)}")
        name = self.fresh("_f")
        self.lines.append(f"def {name}(r, ctx):\n    return {{{', '.join(items)}}}\n")
        return name

    def field(self, parent: GraphQLObjectType, group: FieldDetailsList) -> str:
        node = group[0].node
        name = node.name.value
        if name == "__typename":
            return repr(parent.name)
        definition = parent.fields.get(name)
        if definition is None or definition.args or any(
                d.node.arguments or d.fragment_variable_values for d in group):
            raise NotPlain
        strawberry_field = definition.extensions.get("strawberry-definition")
        if strawberry_field is None:
            raise NotPlain
        spec = fields.spec_of(strawberry_field)
        if spec is None:
            expr = f"r.{strawberry_field.python_name}"
        elif isinstance(spec, Column):
            expr = fields.guarded(spec)
            self.personal |= spec.staff
        elif isinstance(spec, Known):
            expr = f"_known(ctx.loaders.known_{spec.kind}, {spec.key})"
            self.personal = True
        else:
            raise NotPlain
        self.note(parent.name, expr)
        return self.value(definition.type, expr, group)

    def value(self, type_: GraphQLOutputType, expr: str, group: FieldDetailsList) -> str:
        if isinstance(type_, GraphQLNonNull):
            return self.complete(type_.of_type, f"_nn({expr})", group)
        v = self.fresh("v")
        return f"(None if ({v} := {expr}) is None else {self.complete(type_, v, group)})"

    def complete(self, type_: Any, expr: str, group: FieldDetailsList) -> str:
        """The completed value of ``expr``, known not to be null."""
        if isinstance(type_, GraphQLList):
            x = self.fresh("x")
            return f"[{self.value(type_.of_type, x, group)} for {x} in {expr}]"
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            if type_.name in IDENTITY_SCALARS:
                return expr
            if type_.name == "ID":
                return f"str({expr})"
            serialize = self.fresh("_s")
            self.names[serialize] = type_.serialize
            if isinstance(type_, GraphQLEnumType):  # by a dict of the enum's own values
                names = self.fresh("_e")
                self.names[names] = {value.value: name for name, value in type_.values.items()}
                v = self.fresh("v")
                return f"({names}.get({v} := {expr}) or {serialize}({v}))"
            return f"{serialize}({expr})"
        if is_abstract_type(type_) or not isinstance(type_, GraphQLObjectType):
            raise NotPlain
        if type_.is_type_of is not None:
            raise NotPlain  # checked per value by the executor
        return f"{self.selection(type_, group)}({expr}, ctx)"

    def build(self, name: str) -> Callable[[Any, Any], dict[str, Any]]:
        exec("\n".join(self.lines), self.names)  # expressions of our own declarations only
        return self.names[name]  # type: ignore[no-any-return]


def compile_plan(executor: Any, object_type: GraphQLObjectType,
                 details: FieldDetailsList) -> Plan:
    """Raises NotPlain for a selection the executor must complete."""
    if object_type.is_type_of is not None:
        raise NotPlain  # checked per value by the executor
    writer = _Writer(executor)
    name = writer.selection(object_type, details)
    reads = {type_name: None if names is None else frozenset(names)
             for type_name, names in writer.reads.items()}
    return Plan(object_type.name, writer.build(name), writer.personal, reads,
                meters=plan_meters(object_type.name))


def _directive_variables(operation: OperationDefinitionNode, fragments: Any) -> tuple[str, ...]:
    """Variables that ``@include``/``@skip`` read: a plan is made per value of them."""
    found: set[str] = set()

    class Find(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    found.add(argument.value.name.value)

    visit(operation, Find())
    for fragment in fragments.values():
        visit(fragment.definition, Find())
    return tuple(sorted(found))


class Planner:
    """Plans by (object type, the field nodes being completed, the directives' variables),
    in a bounded cache. The nodes come from the parser cache's documents, so one document
    sent again finds its plans."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.plans: OrderedDict[Any, tuple[tuple[Any, ...], Plan | None]] = OrderedDict()
        self.directive_variables: OrderedDict[int, tuple[Any, tuple[str, ...]]] = (
            OrderedDict())

    def find(self, executor: Any, object_type: GraphQLObjectType,
             details: FieldDetailsList) -> Plan | None:
        nodes = tuple(d.node for d in details)
        key = (object_type, *map(id, nodes), self._switches(executor))
        entry = self.plans.get(key)
        if entry is not None and all(a is b for a, b in zip(entry[0], nodes, strict=True)):
            return entry[1]
        try:
            plan: Plan | None = compile_plan(executor, object_type, details)
        except NotPlain:
            plan = None
            PLAN_COMPLETIONS.labels(object_type.name, "unplannable").inc()
        # The nodes are kept with the entry (a plan or None), so no id in a key is reused.
        self.plans[key] = (nodes, plan)
        if len(self.plans) > self.size:
            self.plans.popitem(last=False)
        return plan

    def _switches(self, executor: Any) -> tuple[Any, ...]:
        operation = executor.operation
        known = self.directive_variables.get(id(operation))
        if known is None or known[0] is not operation:
            known = (operation, _directive_variables(operation, executor.fragments))
            self.directive_variables[id(operation)] = known
            if len(self.directive_variables) > self.size:
                self.directive_variables.popitem(last=False)
        if not known[1]:
            return ()
        coerced = executor.variable_values.coerced
        return tuple(coerced.get(name) for name in known[1])


def planned_executor(planner: Planner) -> type[StrawberryGraphQLCoreExecutionContext]:
    """The executor class that completes objects by plan where it can."""

    class PlannedExecutor(StrawberryGraphQLCoreExecutionContext):
        shared_event = False
        """A subscription event's executor: subscribers of one event share its rendering."""

        def build_per_event_executor(self, payload: Any) -> Any:
            executor = super().build_per_event_executor(payload)
            executor.shared_event = True  # type: ignore[attr-defined]
            return executor

        def complete_object_value(self, return_type: GraphQLObjectType,
                                  field_details_list: FieldDetailsList, info: Any, path: Any,
                                  result: Any, position_context: Any) -> Any:
            plan = planner.find(self, return_type, field_details_list)
            if plan is not None:
                answer = _run(plan, result, self.context_value,
                              self.shared_event and not plan.personal)
                if answer is not None:
                    return answer
            return super().complete_object_value(return_type, field_details_list, info,
                                                 path, result, position_context)

    return PlannedExecutor


def _run(plan: Plan, row: Any, context: Any, share: bool) -> dict[str, Any] | None:
    last = plan.last
    if share and last is not None and last[0] is row:
        return last[1]
    planned, handed_back, failed = plan.meters
    try:
        data = plan.project(row, context)
    except Unplanned:
        handed_back.inc()
        return None
    except Exception as exc:
        reference = uuid.uuid4().hex[:12]
        log.error("plan for %s failed (reference %s); the executor answers", plan.type_name,
                  reference, exc_info=exc)
        failed.inc()
        return None
    planned.inc()
    if share:
        plan.last = (row, data)
    return data


class _Handback(Exception):
    """The root plan cannot complete this value: the executor answers the operation."""


_READ_AGAIN = object()


class _Shim:
    """What a plan and ``build_resolve_info`` read of an executor, for the root plan."""

    __slots__ = (
        "context_value",
        "fragment_definitions",
        "fragments",
        "operation",
        "schema",
        "variable_values",
    )
    root_value = None
    hide_suggestions = False
    is_awaitable = staticmethod(is_awaitable)
    abort_signal = None
    async_helpers = None
    operation_extensions = None

    def __init__(self, schema: Any, fragments: dict[str, FragmentDetails],
                 fragment_definitions: dict[str, Any], variable_values: VariableValues,
                 operation: OperationDefinitionNode, context_value: Any) -> None:
        self.schema = schema
        self.fragments = fragments
        self.fragment_definitions = fragment_definitions
        self.variable_values = variable_values
        self.operation = operation
        self.context_value = context_value


@dataclass
class Root:
    """A ready query of one root field (and any ``__typename``), known to need nothing of
    the executor but the root field's own resolver: its fragments, and its root fields
    collected per value of the variables that ``@include``/``@skip`` read."""

    operation: OperationDefinitionNode
    root_type: GraphQLObjectType
    fragments: dict[str, FragmentDetails]
    fragment_definitions: dict[str, Any]
    collected: dict[tuple[Any, ...], Any] = field(default_factory=dict)


class Roots:
    """Runs a ready query whose one root field's value a plan completes, without building
    graphql-core's executor: the variables coerced as the executor coerces them, the root
    field's arguments read and its resolver (Strawberry's, with its argument conversion,
    field extensions and exception handlers) called with the ``info`` the executor would
    build, its error located as the executor locates it, and its value completed by the
    plans. Anything else it hands back before the resolver runs (invalid variables, more
    than one root field, a root type no plan completes), and the executor answers; a value
    no plan completes (a null where the schema says non-null, a row no read put aside) is
    handed back after it, and the executor reads it again (a query: nothing is written).
    A mutation never comes here. The differential tests compare it with the executor."""

    def __init__(self, planner: Planner, executor_class: Any, size: int = 1024) -> None:
        self.planner = planner
        self.executor_class = executor_class
        self.size = size
        self.roots: OrderedDict[tuple[int, str | None], tuple[Any, Root | None]] = (
            OrderedDict())
        self.directs: dict[int, tuple[GraphQLField, Any]] = {}

    def root(self, schema: Any, document: Any, operation_name: str | None) -> Root | None:
        key = (id(document), operation_name)
        known = self.roots.get(key)
        if known is not None and known[0] is document:
            return known[1]
        root = _root_of(schema, document, operation_name)
        self.roots[key] = (document, root)
        if len(self.roots) > self.size:
            self.roots.popitem(last=False)
        return root

    async def run(self, schema: Any, root: Root, variables: dict[str, Any] | None,
                  context: Any) -> tuple[Any, list[GraphQLError] | None] | None:
        """(data, errors) as the executor would answer, or None for the executor."""
        answer = await self._answer(schema, root, variables, context)
        if answer is None:
            ROOT_EXECUTOR.inc()
        elif answer is _READ_AGAIN:
            ROOT_READ_AGAIN.inc()
            return None
        else:
            ROOT_ANSWERED.inc()
        return answer  # type: ignore[no-any-return]

    async def _answer(self, schema: Any, root: Root, variables: dict[str, Any] | None,
                      context: Any) -> Any:
        operation = root.operation
        coerced = get_variable_values(schema, operation.variable_definitions or (),
                                      variables or {}, max_errors=50)
        if isinstance(coerced, list):
            return None  # the executor reports them
        shim = _Shim(schema, root.fragments, root.fragment_definitions, coerced, operation,
                     context)
        switches = self.planner._switches(shim)
        grouped = root.collected.get(switches)
        if grouped is None:
            grouped = collect_fields(schema, root.fragments, coerced, root.root_type,
                                     operation).grouped_field_set
            if len(root.collected) < 64:
                root.collected[switches] = grouped
        keys = [k for k, group in grouped.items() if group[0].node.name.value != "__typename"]
        if len(keys) != 1:
            return None
        data: dict[str, Any] = {}
        for key, group in grouped.items():
            if key != keys[0]:
                data[key] = root.root_type.name
                continue
            details = group[0]
            if details.fragment_variable_values is not None or details.defer_usage:
                return None
            definition = root.root_type.fields.get(details.node.name.value)
            if definition is None:  # __schema, __type: the executor's
                return None
            path = Path(None, key, root.root_type.name)
            info = self.executor_class.build_resolve_info(
                shim, definition, [d.node for d in group], root.root_type, path)
            direct = self._direct(definition)
            named = get_named_type(definition.type)
            plan = (self.planner.find(shim, named, group)
                    if isinstance(named, GraphQLObjectType) and named.is_type_of is None
                    else None)
            try:
                args = (get_argument_values(definition, details.node, coerced)
                        if definition.args or details.node.arguments else {})
                # What the plan will read, for a resolver that reads no more (a value the
                # plan then cannot complete is read again, in full, by the executor).
                context.planned_reads = plan.reads if plan is not None else None
                try:
                    value = (direct(info, args) if direct is not None
                             else definition.resolve(None, info, **args))
                    if is_awaitable(value):
                        value = await value
                finally:
                    context.planned_reads = None
            except Exception as exc:
                error = located_error(exc, [d.node for d in group], path.as_list())
                if isinstance(definition.type, GraphQLNonNull):
                    return None, [error]
                data[key] = None
                return data, [error]
            try:
                data[key] = self._complete(shim, definition.type, group, value)
            except _Handback:
                return _READ_AGAIN
        return data, None

    def _direct(self, definition: GraphQLField) -> Callable[[Any, dict[str, Any]], Any] | None:
        """The root field's resolver called as Strawberry's wrapper calls it, where the
        wrapper would do nothing else: no field extensions or permissions, no exception
        handlers, arguments of built-in scalars only (Strawberry passes them as they come,
        under their Python names). The rest keep Strawberry's wrapper."""
        known = self.directs.get(id(definition))
        if known is None or known[0] is not definition:
            known = self.directs[id(definition)] = (definition, _direct_call(definition))
        return known[1]

    def _complete(self, shim: _Shim, type_: Any, group: FieldDetailsList, value: Any) -> Any:
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                raise _Handback
            return self._complete(shim, type_.of_type, group, value)
        if value is None:
            return None
        if isinstance(type_, GraphQLList):
            if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
                raise _Handback
            return [self._complete(shim, type_.of_type, group, item) for item in value]
        if isinstance(type_, GraphQLObjectType) and type_.is_type_of is None:
            plan = self.planner.find(shim, type_, group)
            if plan is None:
                raise _Handback
            answer = _run(plan, value, shim.context_value, False)
            if answer is None:
                raise _Handback
            return answer
        raise _Handback  # a scalar, an enum or an abstract type at the root: the executor's


_INFO: Any = StrawberryInfo  # (its __class_getitem__ confuses mypy)
_PLAIN_ARGUMENTS = (str, int, float, bool, ID)


def _plain_argument(type_: Any) -> bool:
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    return any(type_ is plain for plain in _PLAIN_ARGUMENTS)


def _exception_handlers(resolve: Any) -> Any:
    """The exception handlers Strawberry's wrapper of a resolver applies (in its closure;
    unknown, so assumed some, when the wrapper is not Strawberry's)."""
    code = getattr(resolve, "__code__", None)
    if code is None or "field_exception_handlers" not in code.co_freevars:
        return True
    return resolve.__closure__[code.co_freevars.index("field_exception_handlers")].cell_contents


def _direct_call(definition: GraphQLField) -> Callable[[Any, dict[str, Any]], Any] | None:
    strawberry_field = (definition.extensions or {}).get("strawberry-definition")
    resolve = definition.resolve
    if not isinstance(strawberry_field, StrawberryField) or resolve is None:
        return None
    resolver = strawberry_field.base_resolver
    if (resolver is None or strawberry_field.extensions or _exception_handlers(resolve)
            or resolver.parent_parameter or resolver.root_parameter
            or not all(_plain_argument(a.type) for a in strawberry_field.arguments)):
        return None
    # The schema's argument names, made by Strawberry from these arguments in this order.
    if len(definition.args) != len(strawberry_field.arguments):
        return None
    names = {name: argument.python_name for name, argument in zip(
        definition.args, strawberry_field.arguments, strict=True)}
    takes_self = resolver.self_parameter is not None
    info_parameter = resolver.info_parameter.name if resolver.info_parameter else None
    wrapped: Any = resolver.wrapped_func

    def call(info: Any, args: dict[str, Any]) -> Any:
        kwargs = {names[name]: value for name, value in args.items()}
        if info_parameter is not None:
            kwargs[info_parameter] = _INFO(_raw_info=info, _field=strawberry_field)
        return wrapped(None, **kwargs) if takes_self else wrapped(**kwargs)

    return call


def _root_of(schema: Any, document: Any, operation_name: str | None) -> Root | None:
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY or (
            operation.directives):
        return None
    root_type = schema.query_type
    fragments: dict[str, FragmentDetails] = {}
    definitions: dict[str, Any] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:
                return None
            definitions[definition.name.value] = definition
            fragments[definition.name.value] = FragmentDetails(definition, None)
    return Root(operation, root_type, fragments, definitions)
