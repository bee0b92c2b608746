"""The malls GoQ connects to are reference data every installation needs."""

from django.db import migrations

MALLS = [
    ("rakuten", "楽天市場", "Rakuten Ichiba", 10),
    ("yahoo", "Yahoo!ショッピング", "Yahoo! Shopping", 20),
    ("amazon", "Amazon", "Amazon", 30),
    ("aupay", "au PAY マーケット", "au PAY Market", 40),
    ("qoo10", "Qoo10", "Qoo10", 50),
    ("makeshop", "MakeShop", "MakeShop", 60),
    ("shopify", "Shopify", "Shopify", 70),
    ("futureshop", "futureshop", "futureshop", 80),
]


def add_malls(apps, schema_editor):
    Mall = apps.get_model("malls", "Mall")
    for code, name, name_en, order in MALLS:
        Mall.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("malls", "0001_initial")]

    operations = [migrations.RunPython(add_malls, migrations.RunPython.noop)]
