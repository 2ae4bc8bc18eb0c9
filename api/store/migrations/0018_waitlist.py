from tortoise import migrations
from tortoise.migrations import operations as ops
from api.domain.model import WaitlistStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0017_customer_choices')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WaitlistEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='waitlist', on_delete=OnDelete.RESTRICT)),
                ('customer_id', fields.CharField(max_length=128)),
                ('quantity', fields.IntField()),
                ('status', fields.CharEnumField(default=WaitlistStatus.WAITING, description='WAITING: WAITING\nHOLDING: HOLDING\nCLAIMED: CLAIMED\nEXPIRED: EXPIRED\nLEFT: LEFT', enum_type=WaitlistStatus, max_length=12)),
                ('held', fields.IntField(default=0)),
                ('held_price', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('hold_offered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('hold_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reminded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='waitlist_claims', on_delete=OnDelete.SET_NULL)),
                ('joined_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=1)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'waitlist_entry', 'app': 'models', 'indexes': [Index(fields=['product_id', 'status', 'id']), Index(fields=['status', 'hold_expires_at']), Index(fields=['customer_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Product',
            name='held',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]
