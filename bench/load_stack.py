"""Settings for the load benchmark's server: production's, with static files in a temporary folder.

Pages render ``{% static %}`` through the manifest storage, which needs collected
files; collecting them into the work tree's ``staticfiles/`` would leave a build
behind, so the benchmark collects into a folder it removes afterwards.
"""

import os

from goq.settings import *  # noqa: F403

STATIC_ROOT = os.environ["GOQ_LOAD_STATIC_ROOT"]
