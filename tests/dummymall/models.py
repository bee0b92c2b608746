"""A mall's connection as the dummy mall stores it: two secrets sent together on every
call (like Rakuten's serviceSecret and licenseKey), a fact the check learns (the key's
expiry), and a state the generic core has never heard of (pending activation)."""

from django.db import models

from malls.fields import EncryptedSecretField
from malls.models import Connection


class DummyConnection(Connection):
    class Status(models.TextChoices):
        UNSET = "unset", "Not configured"
        PENDING_ACTIVATION = "pending_activation", "Waiting for the key to become active"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected by the dummy mall"

    shop = models.OneToOneField(
        "malls.MallShop", on_delete=models.CASCADE, null=True, blank=True,
        related_name="dummy_connection",
    )
    shop_code = models.CharField(max_length=50)
    service_secret = EncryptedSecretField()
    license_key = EncryptedSecretField()
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.UNSET)
    expires_on = models.DateField(null=True, blank=True)

    def __str__(self):
        return self.shop_code
