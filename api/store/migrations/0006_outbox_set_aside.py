from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_outbox_lookup')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxEvent',
            name='set_aside',
            field=fields.CharField(null=True, max_length=200),
        ),
    ]
