from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_notification_preferences')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OrderLine',
            name='shipped_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OrderLine',
            name='tracking_code',
            field=fields.CharField(null=True, max_length=128),
        ),
    ]
