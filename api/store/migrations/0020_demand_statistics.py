"""Statistics on the demand report's bucket expressions (PostgreSQL; nothing on SQLite).

The report groups order lines and back orders by ``CAST(date_trunc(unit, placed_at AT TIME
ZONE 'UTC') AS DATE)`` (``_bucket`` in ``api/store/demand.py``; a unit test keeps the two
texts equal). With no statistics on that expression PostgreSQL guessed 499,900 weeks in
500,000 orders (there were 14): it sorted a million lines to group them (on disk at the
default work_mem), and its estimate of 500 million rows for the periods' join took the
statement's cost past the JIT thresholds, so it spent 0.75-1.3 s compiling it. With them
it counts the weeks, hashes the groups in parallel and compiles for 0.1-0.2 s: the whole
report over 1,000,000 lines took about a fifth less (bench/RESULTS.md, figure 8).
Expression statistics need PostgreSQL 14 or later.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

UNITS = ("day", "week", "month")
TABLES = ("customer_order", "back_order")


def bucket(unit: str) -> str:
    return f"CAST(date_trunc('{unit}', placed_at AT TIME ZONE 'UTC') AS DATE)"


def _postgres(editor: Any) -> bool:
    return str(editor.client.capabilities.dialect) == "postgres"


async def forward(apps: Any, editor: Any) -> None:
    if not _postgres(editor):
        return
    for table in TABLES:
        for unit in UNITS:
            await editor.client.execute_script(
                f'CREATE STATISTICS IF NOT EXISTS "{table}_placed_{unit}"'
                f' ON ({bucket(unit)}) FROM "{table}"')
        await editor.client.execute_script(f'ANALYZE "{table}"')


async def backward(apps: Any, editor: Any) -> None:
    if not _postgres(editor):
        return
    for table in TABLES:
        for unit in UNITS:
            await editor.client.execute_script(
                f'DROP STATISTICS IF EXISTS "{table}_placed_{unit}"')


class Migration(migrations.Migration):
    dependencies = [('models', '0019_split_shipments')]

    initial = False

    operations = [ops.RunPython(forward, backward)]
