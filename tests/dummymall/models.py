"""A connection with two secrets, stored like any mall's."""

import uuid

from django.db import models

from malls.fields import EncryptedSecretField


class DummyConnection(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop_code = models.CharField(max_length=50)
    service_secret = EncryptedSecretField()
    license_key = EncryptedSecretField()

    def __str__(self):
        return self.shop_code
