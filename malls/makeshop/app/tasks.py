"""Background job: verify an installation's token by using it once.

Queued by the install webhook (after its transaction commits) so the webhook answers
MakeShop at once; run by ``manage.py db_worker`` like ``malls.makeshop.tasks``. The job carries
the installation id only, never a token. Running it twice is harmless: it asks
MakeShop again through the shop's call slot and records the latest answer.

Queued only through ``malls.makeshop.jobs.enqueue_installation_verification`` (one open job
per installation, see ``malls.services.queue``), to which this module hands its job on
import; the app's ``ready()`` imports it in every process.
"""

from django.tasks import task

from malls.makeshop import jobs
from malls.services import queue

from .installations import verify_installation
from .models import AppInstallationEvent, MakeShopAppInstallation


@task()
def verify_installation_task(installation_id: str) -> dict:
    """Verify one installation's token; the summary is the job's visible result."""
    installation = MakeShopAppInstallation.objects.filter(pk=installation_id).first()
    if installation is None:
        return {"outcome": "gone"}
    result = verify_installation(
        installation=installation, source=AppInstallationEvent.Source.TASK
    )
    summary = {"shop_id": installation.shop_id}
    if result is None:
        return {**summary, "outcome": "nothing to verify"}
    return {
        **summary,
        "outcome": str(result.outcome),
        "reason": result.reason,
        "state": installation.state,
        "linked": not installation.is_unclaimed,
    }


queue.register_jobs(jobs.VERIFY_INSTALLATION, one=verify_installation_task)
