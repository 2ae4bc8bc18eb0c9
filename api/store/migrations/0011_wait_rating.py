from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_trace_context')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WaitRating',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('back_order', fields.ForeignKeyField('models.BackOrder', source_field='back_order_id', db_constraint=True, to_field='id', related_name='wait_ratings', on_delete=OnDelete.CASCADE)),
                ('customer_id', fields.CharField(max_length=128)),
                ('rating', fields.SmallIntField()),
                ('comment', fields.CharField(default='', max_length=1000)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'wait_rating', 'app': 'models', 'unique_together': (('back_order_id',),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
