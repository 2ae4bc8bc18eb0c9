from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_notifications')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='OutboxEvent',
            index=Index(fields=['topic', 'key', 'id']),
        ),
    ]
