from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_webhooks')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxEvent',
            name='trace_context',
            field=fields.CharField(null=True, max_length=55),
        ),
        ops.AddField(
            model_name='Notification',
            name='trace_context',
            field=fields.CharField(null=True, max_length=55),
        ),
    ]
