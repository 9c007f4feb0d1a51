# syntax=docker/dockerfile:1.7
# Web (gunicorn's asyncio worker on curation.asgi, ADR 0006) and Celery share this image.
# linux/arm64, CPython 3.12, binary wheels only: the build fails instead of compiling anything.
#   docker buildx build --platform linux/arm64 -f deploy/docker/web.Dockerfile -t parjanya-web .
# Roles: CMD ["web"] (default), ["worker"], ["beat"], ["migrate"], ["scale"]; see entrypoint.py.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM --platform=linux/arm64 ${PYTHON_IMAGE} AS wheels
WORKDIR /build
COPY requirements/ requirements/
# The same requirement set `make arm64-gate` checks for aarch64 / glibc 2.36 (bookworm).
RUN pip download --disable-pip-version-check --no-cache-dir --only-binary=:all: \
        --dest /wheels -r requirements/base.txt

FROM --platform=linux/arm64 ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=curation.settings.production \
    PARJANYA_APP_DIR=/app \
    PARJANYA_ROLE=web \
    PORT=8000
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    --mount=type=bind,source=requirements,target=/tmp/requirements \
    pip install --no-index --find-links /wheels --only-binary=:all: \
        -r /tmp/requirements/base.txt
WORKDIR /app
COPY --chown=app:app manage.py ./
COPY --chown=app:app curation/ curation/
COPY --chown=app:app gallery/ gallery/
COPY --chown=app:app pipeline/ pipeline/
COPY --chown=app:app gpu_worker/ gpu_worker/
COPY --chown=app:app deploy/docker/entrypoint.py deploy/docker/entrypoint.py
# Static files into the image (STATIC_ROOT /app/var/static), served by WhiteNoise. The key only
# satisfies the production settings' check; nothing is signed at build time.
# Uploads spool in a folder of their own, swept at start-up (README "Faults and limits").
ENV FILE_UPLOAD_TEMP_DIR=/app/var/upload-tmp
RUN DJANGO_SECRET_KEY=collectstatic-build-only python manage.py collectstatic --noinput \
    && mkdir -p /app/var/upload-tmp \
    && chown -R app:app /app/var
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/docker/entrypoint.py", "healthcheck"]
ENTRYPOINT ["python", "/app/deploy/docker/entrypoint.py"]
CMD ["web"]
