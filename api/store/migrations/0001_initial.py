import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from api.domain.model import RestockStatus, Status


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Order',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer_id', fields.CharField(db_index=True, max_length=128)),
                ('idempotency_key', fields.CharField(max_length=128)),
                ('request_hash', fields.CharField(max_length=64)),
                ('currency', fields.CharField(max_length=3)),
                ('amount_charged', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('amount_refunded', fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ('placed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'customer_order', 'app': 'models', 'unique_together': (('customer_id', 'idempotency_key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('topic', fields.CharField(max_length=64)),
                ('key', fields.CharField(max_length=128)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_event', 'app': 'models', 'indexes': [Index(fields=['published_at', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Product',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sku', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('digital', fields.BooleanField(default=False)),
                ('price', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('discontinued', fields.BooleanField(default=False)),
                ('on_hand', fields.IntField(default=0)),
                ('allocated', fields.IntField(default=0)),
                ('waiting', fields.IntField(default=0)),
                ('allow_backorders', fields.BooleanField(default=True)),
                ('backorder_cap', fields.IntField(null=True)),
                ('lead_time_days', fields.IntField(default=14)),
                ('handling_days', fields.IntField(default=1)),
                ('release_date', fields.DateField(null=True)),
                ('delay_grace_days', fields.IntField(default=2)),
                ('low_stock_threshold', fields.IntField(default=5)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'product', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='order_lines', on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.IntField()),
                ('unit_price', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('amount_charged', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('allocated_now', fields.IntField()),
                ('backordered', fields.IntField()),
            ],
            options={'table': 'order_line', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BackOrder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='back_orders', on_delete=OnDelete.CASCADE)),
                ('line', fields.ForeignKeyField('models.OrderLine', source_field='line_id', db_constraint=True, to_field='id', related_name='back_orders', on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='back_orders', on_delete=OnDelete.RESTRICT)),
                ('customer_id', fields.CharField(max_length=128)),
                ('quantity', fields.IntField()),
                ('allocated', fields.IntField(default=0)),
                ('status', fields.CharEnumField(default=Status.WAITING, description='WAITING: WAITING\nPARTIALLY_ALLOCATED: PARTIALLY_ALLOCATED\nALLOCATED: ALLOCATED\nSHIPPED: SHIPPED\nCANCELLED: CANCELLED', enum_type=Status, max_length=24)),
                ('priority', fields.IntField(default=0)),
                ('placed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('unit_price', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('queue_position', fields.IntField(null=True)),
                ('units_ahead', fields.IntField(default=0)),
                ('estimated_ship_date', fields.DateField()),
                ('estimate_scheduled', fields.BooleanField(default=False)),
                ('promised_date', fields.DateField()),
                ('delayed', fields.BooleanField(default=False)),
                ('refunded_amount', fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ('tracking_code', fields.CharField(null=True, max_length=128)),
                ('version', fields.IntField(default=1)),
                ('allocated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'back_order', 'app': 'models', 'indexes': [Index(fields=['product_id', 'status', 'priority', 'placed_at']), Index(fields=['customer_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BackOrderEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('back_order', fields.ForeignKeyField('models.BackOrder', source_field='back_order_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=32)),
                ('status', fields.CharEnumField(description='WAITING: WAITING\nPARTIALLY_ALLOCATED: PARTIALLY_ALLOCATED\nALLOCATED: ALLOCATED\nSHIPPED: SHIPPED\nCANCELLED: CANCELLED', enum_type=Status, max_length=24)),
                ('version', fields.IntField()),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'back_order_event', 'app': 'models', 'indexes': [Index(fields=['back_order_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Restock',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='restocks', on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.IntField()),
                ('received', fields.IntField(default=0)),
                ('expected_date', fields.DateField()),
                ('status', fields.CharEnumField(default=RestockStatus.SCHEDULED, description='SCHEDULED: SCHEDULED\nPARTIALLY_RECEIVED: PARTIALLY_RECEIVED\nRECEIVED: RECEIVED\nCANCELLED: CANCELLED', enum_type=RestockStatus, max_length=20)),
                ('note', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'restock', 'app': 'models', 'indexes': [Index(fields=['product_id', 'status', 'expected_date'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
