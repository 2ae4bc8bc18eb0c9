from tortoise import migrations
from tortoise.migrations import operations as ops
from api.domain.model import NotificationStatus
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_outbox_set_aside')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Notification',
            name='status',
            field=fields.CharEnumField(default=NotificationStatus.PENDING, description='PENDING: PENDING\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED\nSUPPRESSED: SUPPRESSED\nSET_ASIDE: SET_ASIDE', enum_type=NotificationStatus, max_length=12),
        ),
        ops.AddField(
            model_name='Notification',
            name='set_aside',
            field=fields.CharField(null=True, max_length=32),
        ),
    ]
