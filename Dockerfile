# The portal's image: one image for the web, worker and beat processes (bin/start).
#   docker build -t finops-portal .
#   docker compose up        (compose.yaml: PostgreSQL, Redis, web, worker, beat)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHON=python \
    HOST=0.0.0.0 \
    PORT=8000 \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
RUN useradd --create-home --uid 1000 portal

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=portal:portal . .
# Collected at build time so the first start is quick; bin/start web collects
# again (unchanged files are skipped), so a mounted or rebuilt tree stays right.
RUN DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=build \
    python manage.py collectstatic --no-input --verbosity 0 \
    && chown -R portal:portal /app/staticfiles

USER portal
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=4)"
ENTRYPOINT ["bin/start"]
CMD ["web"]
