#!/usr/bin/env bash
# Install the Community MARAC bot into a virtual environment: the one install step, run by
# the Dockerfile and by tests/scale/test_install.py alike.
#
#   deploy/install.sh [VENV]        (or VENV=... deploy/install.sh; default /opt/marac)
#
# The package is built from this source tree and installed non-editable, with its data
# files (migrations, the risk matrix, the manifest's icons and schema) and without the
# development extras. The source tree is left untouched: the build runs on a copy.
# PYTHON picks the interpreter (default python3, 3.11 or 3.12); pip's own settings
# (PIP_INDEX_URL, PIP_NO_CACHE_DIR, ...) apply as usual.
set -euo pipefail

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${1:-${VENV:-/opt/marac}}
PYTHON=${PYTHON:-python3}

say() { printf '==> %s\n' "$*"; }

# What the package is built from, and nothing else (no tests, no .venv, no var/).
PARTS=(pyproject.toml README.md bot cards storage manifest)
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
say "Copying the source to a build directory"
tar -C "$SOURCE" --exclude=__pycache__ --exclude='*.pyc' -cf - "${PARTS[@]}" | tar -C "$STAGE" -xf -

say "Creating the virtual environment $TARGET"
"$PYTHON" -m venv "$TARGET"
"$TARGET/bin/python" -m pip install --quiet --upgrade pip

say "Installing the bot (no development extras)"
"$TARGET/bin/python" -m pip install --quiet "$STAGE"

say "Checking the installed package"
# From a neutral directory, so the check reads the installed package, not a source tree.
(cd / && "$TARGET/bin/python" - <<'PY'
from importlib import resources

import bot.__main__  # noqa: F401  (the command line imports)
import storage.schema

needed = {
    "the Alembic migrations": storage.schema.MIGRATIONS / "versions" / "0001_initial.py",
    "alembic.ini": resources.files("storage") / "alembic.ini",
    "the risk matrix": resources.files("bot.kernel") / "risk_matrix_example.json",
    "the manifest's icons": resources.files("manifest") / "color.png",
    "the manifest's default branding": resources.files("manifest") / "branding.toml",
    "the manifest's schema": resources.files("manifest") / "schema",
}
missing = [what for what, path in needed.items() if not path.exists()]
if missing:
    raise SystemExit("The installed package lacks " + ", ".join(missing))
print("The installed package has its migrations, risk matrix and manifest files.")
PY
)
say "Installed: $TARGET/bin/python -m bot serve"
