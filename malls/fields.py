"""A model field that keeps a secret encrypted in the database (see ``malls.crypto``).

On the model instance the attribute reads as a ``SecretValue`` (decrypted on first
access) or ``None``; in the database it is a ``Ciphertext`` bound to model, field and
primary key. The model's primary key must therefore exist before the INSERT (a UUID
with a default), which a system check enforces.
"""

from django.core import checks
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from . import crypto


class PlaintextWriteError(crypto.CredentialsError):
    """Something tried to write an unencrypted value straight to an encrypted column.

    Raised for ``QuerySet.update(field="...")`` and ``bulk_update()``: secrets are
    written only through ``Model.save()``, which encrypts them.
    """


class EncryptedSecretDescriptor(DeferredAttribute):
    """Decrypts on first read, with the owning row's identity as associated data."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        field = self.field
        try:
            value = instance.__dict__[field.attname]
        except KeyError:  # deferred: let Django load it
            value = super().__get__(instance, cls)
        if isinstance(value, crypto.Ciphertext):
            plaintext = crypto.decrypt(value, context=field.context_for(instance))
            value = crypto.SecretValue(plaintext, source=value)
            instance.__dict__[field.attname] = value
        return value

    def __set__(self, instance, value):
        if value is None or isinstance(value, (crypto.SecretValue, crypto.Ciphertext)):
            pass
        elif isinstance(value, str):
            value = crypto.SecretValue(value)
        else:
            raise TypeError(f"{self.field.name} takes a str, a SecretValue or None")
        instance.__dict__[self.field.attname] = value


class EncryptedSecretField(models.TextField):
    """A secret stored with AES-256-GCM; fails closed on anything it cannot decrypt."""

    descriptor_class = EncryptedSecretDescriptor

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        # Model forms would render the secret; forms use write-only inputs instead.
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        # Built once per model (again for each subclass of an abstract model, which gets
        # its own copy of the field), not once per secret read or written.
        opts = cls._meta
        self._context_prefix = f"{opts.app_label}.{opts.model_name}.{self.name}."

    def context_for(self, instance) -> str:
        return self._context_prefix + str(instance.pk)

    def context_for_pk(self, pk) -> str:
        """The associated data binding a value to this model, field and row."""
        return self._context_prefix + str(pk)

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        pk = self.model._meta.pk
        if not isinstance(pk, models.UUIDField) or not pk.has_default():
            errors.append(
                checks.Error(
                    "EncryptedSecretField needs a UUID primary key with a default, "
                    "so that the row identity is known before the INSERT.",
                    obj=self,
                    id="malls.E010",
                )
            )
        return errors

    # Reading from the database: keep the ciphertext; decrypt lazily in the descriptor.
    def from_db_value(self, value, expression, connection):
        return None if value is None else crypto.Ciphertext(value)

    def to_python(self, value):
        # Deserialisation (loaddata) hands over what dumpdata wrote: the ciphertext.
        if value is None or isinstance(value, (crypto.Ciphertext, crypto.SecretValue)):
            return value
        if isinstance(value, str) and crypto.TOKEN_PATTERN.match(value):
            return crypto.Ciphertext(value)
        return crypto.SecretValue(str(value))

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname)
        if value is None or isinstance(value, crypto.Ciphertext):
            return value
        if value._source is not None:
            return value._source
        token = crypto.encrypt(value.reveal(), context=self.context_for(model_instance))
        # Keep the value readable on the instance, now linked to what was stored.
        model_instance.__dict__[self.attname] = crypto.SecretValue(value.reveal(), source=token)
        return token

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, crypto.Ciphertext):
            return str(value)
        if isinstance(value, crypto.SecretValue) and value._source is not None:
            return str(value._source)
        if hasattr(value, "resolve_expression"):
            return value
        raise PlaintextWriteError(
            f"{self.model.__name__}.{self.name} accepts only ciphertext here; set the attribute "
            "and call save() so the value is encrypted."
        )

    def value_from_object(self, obj):
        # Serialisers (dumpdata) and model_to_dict see the stored ciphertext, never plaintext.
        value = obj.__dict__.get(self.attname)
        if isinstance(value, crypto.SecretValue):
            return value._source
        return value

    def value_to_string(self, obj):
        return self.value_from_object(obj)
