"""Pre-orders (api/domain/preorders.py): a product's release moment, pre-order cap and early
birds; a back order's pre-order and early-bird marks.

Back orders placed before their product's release date are marked as pre-orders, so that
they are told of the release like the ones placed from now on. A product whose release
date has come is released already (at the start of that day): the sweep must not release
it again and tell its customers of a release weeks old.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

MARK = ('UPDATE "back_order" SET "pre_order" = {true} WHERE "product_id" IN (SELECT "id"'
        ' FROM "product" WHERE "release_date" IS NOT NULL) AND {placed} < (SELECT'
        ' "release_date" FROM "product" WHERE "product"."id" = "back_order"."product_id")')


RELEASED = ('UPDATE "product" SET "released_at" = {start} WHERE "release_date" IS NOT NULL'
            ' AND "release_date" <= CURRENT_DATE')


async def forward(apps: Any, editor: Any) -> None:
    postgres = str(editor.client.capabilities.dialect) == "postgres"
    await editor.client.execute_script(RELEASED.format(
        start='CAST("release_date" AS TIMESTAMP) AT TIME ZONE \'UTC\'' if postgres
        else '"release_date" || \' 00:00:00+00:00\''))
    await editor.client.execute_script(MARK.format(
        true="TRUE" if postgres else "1",
        placed='CAST("placed_at" AT TIME ZONE \'UTC\' AS DATE)' if postgres
        else 'DATE("placed_at")'))


async def backward(apps: Any, editor: Any) -> None:
    pass

class Migration(migrations.Migration):
    dependencies = [('models', '0020_demand_statistics')]

    initial = False

    operations = [
        ops.AddField(
            model_name='BackOrder',
            name='early_bird',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='BackOrder',
            name='pre_order',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Product',
            name='early_bird_bonus',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Product',
            name='early_bird_size',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Product',
            name='pre_order_cap',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Product',
            name='released_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunPython(forward, backward),
    ]
