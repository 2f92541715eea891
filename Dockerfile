# The Community MARAC bot's image. Its one install step is deploy/install.sh, the script
# tests/scale/test_install.py runs into a fresh virtual environment (these machines have no
# container engine: the test proves the steps the image takes).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/marac/bin:$PATH

# A user of its own: the bot never runs as root.
RUN groupadd --system marac && useradd --system --gid marac --home-dir /srv/marac marac

COPY . /src
RUN /src/deploy/install.sh /opt/marac && rm -rf /src

# The working directory holds var/ (the SQLite file when no DATABASE_URL is set, and the
# erasure ledger, ERASURE_LEDGER: mount a volume there that outlives the database's backups).
WORKDIR /srv/marac
RUN mkdir -p /srv/marac/var && chown -R marac:marac /srv/marac
USER marac

EXPOSE 3978
# /readyz: the database answers (and, with the operations work, the schema is at its head).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('PORT', '3978'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=4).status == 200 else 1)"]

CMD ["python", "-m", "bot", "serve", "--host", "0.0.0.0"]
