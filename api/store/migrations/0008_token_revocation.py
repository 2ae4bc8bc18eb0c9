from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_notification_set_aside')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TokenRevocation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject', fields.CharField(unique=True, max_length=128)),
                ('revoked_before', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'token_revocation', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
