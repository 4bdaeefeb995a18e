"""The demo's throw-away environment, set up before the configuration is read.

``veilleur demo`` must never touch the operator's own data: ``veilleur.cli`` calls
:func:`prepare_demo_environment` before it loads the configuration, so this process
and every child it starts see a fresh data directory with its own SQLite database,
the in-process task backend and a short scheduler interval, whatever the
environment or ``.env`` file say.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import MutableMapping, Sequence
from pathlib import Path

DEMO_DIR_ENV = "VEILLEUR_DEMO_DIR"
DEMO_SCHEDULER_INTERVAL = "2"


def prepare_demo_environment(
    argv: Sequence[str], environ: MutableMapping[str, str] | None = None
) -> Path:
    """Create the demo's data directory and point the ``VEILLEUR_*`` variables at it.

    The directory is removed when this process exits, unless ``--keep`` is in ``argv``.
    """
    env = os.environ if environ is None else environ
    data_dir = Path(tempfile.mkdtemp(prefix="veilleur-demo-")).resolve()
    database_url = f"sqlite:///{data_dir / 'veilleur.sqlite3'}"
    # A *_FILE variable wins over the plain one (and .env never overrides what is set
    # here), so set both: a production VEILLEUR_DATABASE_URL_FILE cannot leak in.
    url_file = data_dir / "database_url"
    url_file.write_text(database_url, encoding="utf-8")
    (data_dir / "static").mkdir()  # STATIC_ROOT: whitenoise warns when it is missing
    env.update({
        "VEILLEUR_DATA_DIR": str(data_dir),
        "VEILLEUR_DATABASE_URL": database_url,
        "VEILLEUR_DATABASE_URL_FILE": str(url_file),
        "VEILLEUR_TASK_BACKEND": "immediate",
        "VEILLEUR_SCHEDULER_INTERVAL": DEMO_SCHEDULER_INTERVAL,
        DEMO_DIR_ENV: str(data_dir),
    })
    if "--keep" not in argv:
        atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    return data_dir
