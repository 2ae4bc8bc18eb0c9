from tortoise import migrations
from tortoise.migrations import operations as ops
from api.domain.model import Shipping
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0018_waitlist')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Shipment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('back_order', fields.ForeignKeyField('models.BackOrder', source_field='back_order_id', db_constraint=True, to_field='id', related_name='shipments', on_delete=OnDelete.CASCADE)),
                ('units', fields.IntField()),
                ('tracking_code', fields.CharField(null=True, max_length=128)),
                ('shipped_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'shipment', 'app': 'models', 'indexes': [Index(fields=['back_order_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='BackOrder',
            name='shipped',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Order',
            name='shipping',
            field=fields.CharEnumField(default=Shipping.SHIP_AS_ALLOCATED, description='SHIP_AS_ALLOCATED: SHIP_AS_ALLOCATED\nSHIP_TOGETHER: SHIP_TOGETHER', db_default='SHIP_AS_ALLOCATED', enum_type=Shipping, max_length=20),
        ),
    ]
