"""Payments (api/domain/payments.py): a product's payment terms, a back order's amounts
paid and held, and every order's ledger of charges.

Every product so far took everything at order: its back orders have paid their price, and
the ledger starts with what their orders were charged and refunded.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from api.domain.model import ChargeKind, ChargeReason, ChargeState, PaymentMode
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


PAID = 'UPDATE "back_order" SET "paid_amount" = "unit_price" * "quantity"'
LEDGER = (
    'INSERT INTO "charge" ("order_id", "back_order_id", "kind", "reason", "amount", "state",'
    ' "at") {select}')
IN_STOCK = ('SELECT l."order_id", NULL, \'CHARGE\', \'IN_STOCK\', l."unit_price" *'
            ' l."allocated_now", \'SUCCEEDED\', o."placed_at" FROM "order_line" l JOIN'
            ' "customer_order" o ON o."id" = l."order_id" WHERE l."allocated_now" > 0'
            ' ORDER BY l."id"')
BACK_ORDERED = ('SELECT "order_id", "id", \'CHARGE\', \'BACK_ORDER\', "unit_price" *'
                ' "quantity", \'SUCCEEDED\', "placed_at" FROM "back_order" ORDER BY "id"')
REFUNDED = ('SELECT "order_id", "id", \'REFUND\', \'CANCELLATION\', "refunded_amount",'
            ' \'SUCCEEDED\', COALESCE("closed_at", "placed_at") FROM "back_order"'
            ' WHERE "refunded_amount" > 0 ORDER BY "id"')


async def forward(apps: Any, editor: Any) -> None:
    await editor.client.execute_script(PAID)
    for select in (IN_STOCK, BACK_ORDERED, REFUNDED):
        await editor.client.execute_script(LEDGER.format(select=select))


async def backward(apps: Any, editor: Any) -> None:
    pass


class Migration(migrations.Migration):
    dependencies = [('models', '0021_pre_orders')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Charge',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='charges', on_delete=OnDelete.CASCADE)),
                ('back_order_id', fields.IntField(null=True)),
                ('kind', fields.CharEnumField(description='CHARGE: CHARGE\nAUTHORIZATION: AUTHORIZATION\nCAPTURE: CAPTURE\nVOID: VOID\nREFUND: REFUND', enum_type=ChargeKind, max_length=16)),
                ('reason', fields.CharEnumField(description='IN_STOCK: IN_STOCK\nBACK_ORDER: BACK_ORDER\nDEPOSIT: DEPOSIT\nBALANCE: BALANCE\nRENEWAL: RENEWAL\nCANCELLATION: CANCELLATION', enum_type=ChargeReason, max_length=16)),
                ('amount', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('state', fields.CharEnumField(description='SUCCEEDED: SUCCEEDED\nAUTHORIZED: AUTHORIZED\nCLOSED: CLOSED\nEXPIRED: EXPIRED', enum_type=ChargeState, max_length=12)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('valid_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('flagged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'charge', 'app': 'models', 'indexes': [Index(fields=['state', 'valid_until']), Index(fields=['back_order_id', 'kind'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='BackOrder',
            name='authorized_amount',
            field=fields.DecimalField(default=0, db_default=0, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='BackOrder',
            name='paid_amount',
            field=fields.DecimalField(default=0, db_default=0, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='Product',
            name='deposit_amount',
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='Product',
            name='deposit_percent',
            field=fields.DecimalField(null=True, max_digits=5, decimal_places=2),
        ),
        ops.AddField(
            model_name='Product',
            name='payment_mode',
            field=fields.CharEnumField(default=PaymentMode.IN_FULL, description='IN_FULL: IN_FULL\nDEPOSIT: DEPOSIT\nON_RELEASE: ON_RELEASE', db_default='IN_FULL', enum_type=PaymentMode, max_length=16),
        ),
        ops.RunPython(forward, backward),
    ]
