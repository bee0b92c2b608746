"""The admin as GoQ staff see it: "GoQSystem" branding, and the overview as its index.

``GoQAdminConfig`` replaces ``django.contrib.admin`` in ``INSTALLED_APPS`` and makes
``GoQAdminSite`` the default site, so every ``@admin.register`` lands on it unchanged.
``BackgroundJobsConfig`` gives django-tasks-db's section a name staff can read (its
own is a fixed English string).

This module is imported while the app registry is being built: models are imported
inside the methods that need them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_tasks_db.apps import TasksAppConfig

# Texts Django 6.1 and django-tasks-db show staff with no Japanese of their own (the
# actions menu's blank choice; the job list's names and columns). Marked here so that
# makemessages keeps them in locale/ja, whose catalog is read before theirs.
THIRD_PARTY_TEXTS = (
    gettext_noop("- Select an option -"),
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
    gettext_noop("status"),
    gettext_noop("enqueued at"),
    gettext_noop("started at"),
    gettext_noop("finished at"),
    gettext_noop("args kwargs"),
    gettext_noop("priority"),
    gettext_noop("task path"),
    gettext_noop("worker id"),
    gettext_noop("queue name"),
    gettext_noop("backend name"),
    gettext_noop("run after"),
    gettext_noop("return value"),
    gettext_noop("exception class path"),
    gettext_noop("traceback"),
)


class GoQAdminSite(admin.AdminSite):
    site_header = _("GoQSystem admin")
    site_title = _("GoQSystem admin")
    index_title = _("Overview")
    index_template = "admin/goq_index.html"
    # At 1,366 pixels the sidebar would take the width the lists need; the index and
    # the breadcrumbs lead everywhere it did.
    enable_nav_sidebar = False

    def index(self, request, extra_context=None):
        """The admin's lists, after each mall's connection overview the user may see.

        A mall's admin registers its overview with ``register_overview``; each one the
        user has the permission for is built (only then: it costs queries) and shown,
        in the order the malls registered them.
        """
        extra_context = dict(extra_context or {})
        extra_context["overview_sections"] = [
            render_to_string(overview.template, overview.build(), request=request)
            for overview in _overviews.values()
            if request.user.has_perm(overview.permission)
        ]
        return super().index(request, extra_context)


@dataclass(frozen=True)
class Overview:
    permission: str
    build: Callable[[], dict]
    template: str


# Each mall's overview by its template, in registration order.
_overviews: dict[str, Overview] = {}


def register_overview(*, permission: str, build: Callable[[], dict], template: str) -> None:
    """Let a mall's admin put its connection overview on the admin index: ``template``
    rendered with ``build()``'s context for staff holding ``permission``."""
    _overviews[template] = Overview(permission, build, template)


class GoQAdminConfig(AdminConfig):
    default_site = "malls.admin_site.GoQAdminSite"


class BackgroundJobsConfig(TasksAppConfig):
    verbose_name = _("Background jobs")
