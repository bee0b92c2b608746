"""django-tasks-db's job list as GoQ staff follow it: outcomes, progress, stalled jobs.

django-tasks-db registers ``DBTaskResult`` with its own admin when its admin module
is imported (the import below); this module replaces that registration, so it must
be imported after it, as ``malls.admin`` does.
"""

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Count
from django.tasks import TaskResultStatus
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from .. import services
from .formatting import when

# Who may queue re-verification with MakeShop, and revive stalled jobs.
VERIFY_PERMISSION = "malls.verify_makeshopconnection"

# The title's progress, in the order a run goes through.
PROGRESS = (
    TaskResultStatus.READY, TaskResultStatus.RUNNING, TaskResultStatus.SUCCESSFUL,
    TaskResultStatus.FAILED,
)

# Staff's names for GoQ's jobs; any other shows its function's name.
TASK_NAMES = {
    "malls.makeshop.tasks.verify_shop_task": _("Verify a MakeShop shop"),
    "malls.makeshop.tasks.verify_batch_task": _("Verify MakeShop shops"),
    "malls.makeshop.app.tasks.verify_installation_task": _("Verify a MakeShop app token"),
    "malls.alerts.tasks.send_alerts_task": _("Send alerts"),
    "malls.alerts.tasks.send_reminders_task": _("Send alert reminders"),
    "malls.alerts.tasks.send_staff_digest_task": _("Send staff digest"),
}

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class VerificationJobAdmin(DBTaskResultAdmin):
    """django-tasks-db's job list, plus each job's outcome and a way to revive stalled ones.

    The title counts jobs by status, so staff can follow a re-verification run.
    Columns and fields django-tasks-db names in fixed English are shown through
    display methods here, in staff's language.
    """

    list_display = [
        "id", "task_label", "status", "outcome", "enqueued_at", "started_at", "finished_at",
        "worker_ids",
    ]
    actions = ["requeue_stalled"]

    def has_verify_permission(self, request):
        return request.user.has_perm(VERIFY_PERMISSION)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        renamed = {"formatted_traceback": "job_traceback", "display_run_after": "job_run_after"}
        return [renamed.get(name, name) for name in fields]

    # --- columns and fields ---

    @admin.display(description=_("task name"), ordering="task_path")
    def task_label(self, obj):
        return str(TASK_NAMES.get(obj.task_path, obj.task_path.rsplit(".", 1)[-1]))

    @admin.display(description=_("run after"))
    def job_run_after(self, obj):
        return self.display_run_after(obj)

    @admin.display(description=_("traceback"))
    def job_traceback(self, obj):
        return self.formatted_traceback(obj)

    @admin.display(description=_("job"))
    def job_title(self, obj):
        """What the job's page is called (django-tasks-db's rows have no name of their own)."""
        return gettext("%(task)s, enqueued %(when)s") % {
            "task": self.task_label(obj), "when": when(obj.enqueued_at),
        }

    @admin.display(description=_("outcome"))
    def outcome(self, obj):
        value = obj.return_value
        if isinstance(value, dict) and "outcomes" in value:  # a batch: counts per outcome
            counts = ", ".join(f"{name} {count}" for name, count in value["outcomes"].items())
            return f"{value['shops']}: {counts}"
        if isinstance(value, dict):
            parts = [value.get("shop_id"), value.get("outcome"), value.get("failed_check"),
                     value.get("reason")]
            return " ".join(str(part) for part in parts if part)
        if obj.status == TaskResultStatus.FAILED:
            return obj.exception_class_path.rsplit(".", 1)[-1]
        return "—"

    # --- pages ---

    def changelist_view(self, request, extra_context=None):
        counts = dict(
            DBTaskResult.objects.order_by().values_list("status").annotate(n=Count("pk"))
        )
        progress = ", ".join(
            f"{status.label} {counts[status]}" for status in PROGRESS if counts.get(status)
        )
        title = gettext("Background jobs")
        extra_context = {
            "title": f"{title}: {progress}" if progress else title, **(extra_context or {})
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        if job is not None:
            extra_context = {"subtitle": self.job_title(job), "job_title": self.job_title(job),
                             **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        job = self.get_object(request, object_id)
        if job is not None:
            extra_context = {
                "title": gettext("Change history: %s") % self.job_title(job),
                **(extra_context or {}),
            }
        return super().history_view(request, object_id, extra_context)

    # --- actions ---

    @admin.action(
        description=_("Put selected jobs whose worker died back on the queue"),
        permissions=["verify"],
    )
    def requeue_stalled(self, request, queryset):
        count = services.requeue_stalled_jobs(among=queryset)
        self.message_user(
            request,
            gettext(
                "%(count)d job(s) put back on the queue. Only jobs running for longer than "
                "%(minutes)d minutes are taken as stalled."
            ) % {"count": count, "minutes": services.STALLED_AFTER // timedelta(minutes=1)},
            messages.SUCCESS if count else messages.WARNING,
        )
