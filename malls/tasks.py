"""Background jobs (Django's tasks framework): re-verifying saved MakeShop settings."""

from django.tasks import task

from . import services
from .models import ChangeRecord, MakeShopConnection


@task()
def verify_connection_task(connection_id: str, force: bool = True) -> str:
    """Re-verify one shop's saved settings; returns the outcome for the job's result."""
    connection = (
        MakeShopConnection.objects.select_related("shop").filter(pk=connection_id).first()
    )
    if connection is None:
        return "gone"
    verification = services.verify_connection(
        connection=connection, force=force, source=ChangeRecord.Source.TASK
    )
    return "nothing to verify" if verification is None else str(verification.outcome)
