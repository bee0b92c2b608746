"""GoQ staff's admin for the malls app, one module per concern.

Importing the package registers every model admin on the GoQ admin site
(``malls.admin_site``). Order matters for one module only: ``jobs`` replaces
django-tasks-db's own registration of ``DBTaskResult``, which exists once
``django_tasks_db.admin`` has been imported (``jobs`` imports it first).

- ``widgets``: the autocomplete select that survives malformed ids;
- ``history``: the history list and each shop's latest entries;
- ``shops``: stores with their members, malls, shops;
- ``jobs``: background jobs;
- ``connections``: the MakeShop connection list and page, with the application
  workflow from ``application``;
- ``installations``: MakeShop app installations (new API), and assigning them.
"""

from . import connections, history, installations, jobs, shops  # noqa: F401  (registers them)
