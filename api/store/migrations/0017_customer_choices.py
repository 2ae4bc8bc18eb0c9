from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0016_customer_limit')]

    initial = False

    operations = [
        ops.AddField(
            model_name='BackOrder',
            name='cancel_by',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='BackOrder',
            name='compensated_amount',
            field=fields.DecimalField(default=0, db_default=0, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='BackOrder',
            name='compensated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='BackOrder',
            name='delay_accepted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='BackOrder',
            name='delay_offered_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='BackOrder',
            index=Index(fields=['cancel_by', 'status']),
        ),
        ops.AddField(
            model_name='Order',
            name='amount_credited',
            field=fields.DecimalField(default=0, db_default=0, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='Product',
            name='compensation_after_days',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Product',
            name='compensation_amount',
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='Product',
            name='compensation_percent',
            field=fields.DecimalField(null=True, max_digits=5, decimal_places=2),
        ),
    ]
