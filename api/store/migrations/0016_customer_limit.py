from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011_wait_rating')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Product',
            name='customer_limit',
            field=fields.IntField(null=True),
        ),
    ]
