# syntax=docker/dockerfile:1.7
# GPU worker for g5 instances: the one intentional x86_64 image.
# CUDA comes from the torch wheels' nvidia-* dependencies; the host (ECS GPU AMI with the NVIDIA
# container toolkit) supplies only the driver. Binary wheels only, as for the ARM64 image.
#   docker buildx build --platform linux/amd64 -f deploy/docker/gpu.Dockerfile -t parjanya-gpu .
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM --platform=linux/amd64 ${PYTHON_IMAGE} AS wheels
WORKDIR /build
COPY requirements/ requirements/
RUN pip download --disable-pip-version-check --no-cache-dir --only-binary=:all: \
        --dest /wheels -r requirements/gpu.txt

FROM --platform=linux/amd64 ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=curation.settings.production \
    PARJANYA_APP_DIR=/app \
    PARJANYA_ROLE=gpu-worker \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    --mount=type=bind,source=requirements,target=/tmp/requirements \
    pip install --no-index --find-links /wheels --only-binary=:all: \
        -r /tmp/requirements/gpu.txt
WORKDIR /app
COPY --chown=app:app manage.py ./
COPY --chown=app:app curation/ curation/
COPY --chown=app:app gallery/ gallery/
COPY --chown=app:app pipeline/ pipeline/
COPY --chown=app:app gpu_worker/ gpu_worker/
COPY --chown=app:app deploy/docker/entrypoint.py deploy/docker/entrypoint.py
USER app
# The worker touches PARJANYA_HEARTBEAT_FILE after each batch; a stale file means it is stuck.
HEALTHCHECK --interval=60s --timeout=10s --start-period=300s --retries=3 \
    CMD ["python", "/app/deploy/docker/entrypoint.py", "healthcheck"]
ENTRYPOINT ["python", "/app/deploy/docker/entrypoint.py"]
CMD ["gpu-worker"]
