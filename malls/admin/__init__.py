"""GoQ staff's admin for the malls app, one module per concern.

Importing the package registers every model admin on the GoQ admin site
(``malls.admin_site``). Order matters for one module only: ``jobs`` replaces
django-tasks-db's own registration of ``DBTaskResult``, which exists once
``django_tasks_db.admin`` has been imported (``jobs`` imports it first).

- ``widgets``: the autocomplete select that survives malformed ids;
- ``history``: the history list and each shop's latest entries;
- ``shops``: stores with their members, malls, shops;
- ``jobs``: background jobs;
- ``application``: the API-use application workflow, mixed into a mall's admin.

Each mall's own admin (its connections, for MakeShop also its app installations)
is in its package (``malls.makeshop.admin``), which Django's admin autodiscovery
imports because the mall is an installed app.
"""

from . import history, jobs, shops  # noqa: F401  (registers them)
