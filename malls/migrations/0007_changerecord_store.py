"""History entries name their store, so they outlive a deleted shop and can be store-wide."""

import django.db.models.deletion
from django.db import migrations, models


def fill_store(apps, schema_editor):
    ChangeRecord = apps.get_model("malls", "ChangeRecord")
    MallShop = apps.get_model("malls", "MallShop")
    for shop_id, store_id in MallShop.objects.filter(
        pk__in=ChangeRecord.objects.values("shop_id")
    ).values_list("pk", "store_id"):
        ChangeRecord.objects.filter(shop_id=shop_id).update(store_id=store_id)


class Migration(migrations.Migration):

    dependencies = [
        ("malls", "0006_alerts"),
    ]

    operations = [
        migrations.AddField(
            model_name="changerecord",
            name="store",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="changes",
                to="malls.store", verbose_name="store",
            ),
        ),
        migrations.RunPython(fill_store, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="changerecord",
            name="store",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="changes",
                to="malls.store", verbose_name="store",
            ),
        ),
        migrations.AlterField(
            model_name="changerecord",
            name="shop",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                related_name="changes", to="malls.mallshop", verbose_name="mall shop",
            ),
        ),
        migrations.AddIndex(
            model_name="changerecord",
            index=models.Index(fields=["store", "-at"], name="change_store_recent"),
        ),
    ]
