# mentorbot container image: `docker build -t mentorbot .`
#
# Two stages: the first builds the project's wheel and installs it, with its
# dependencies, into a virtual environment; the second copies only that environment
# onto a fresh slim Python base and runs it as an unprivileged user. No compiler,
# pip cache or source tree reaches the final image.
#
#   docker run --env-file deploy/mentorbot.env -p 3978:3978 mentorbot      # mentorbot run
#   docker run --env-file deploy/mentorbot.env mentorbot mentorbot migrate # one-shot
#
# Configuration: app.yaml is read from /etc/mentorbot/app.yaml (mount your own there,
# or set MENTORBOT_CONFIG); secrets come from the environment (README, "Deploy").

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# The wheel is built from the same files `pip wheel .` uses on a developer machine.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY conversations ./conversations
COPY storage ./storage
RUN python -m venv /opt/mentorbot \
    && /opt/mentorbot/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/mentorbot/bin/pip install /wheels/mentorbot-*.whl \
    && /opt/mentorbot/bin/python -m compileall -q /opt/mentorbot/lib

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="mentorbot" \
      org.opencontainers.image.description="Slack and Microsoft Teams mentoring bot" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed uid/gid, so Kubernetes' runAsNonRoot can check it and volumes can be owned by it.
RUN groupadd --system --gid 10001 mentorbot \
    && useradd --system --uid 10001 --gid mentorbot --home-dir /app --create-home \
       --shell /usr/sbin/nologin mentorbot
COPY --from=build /opt/mentorbot /opt/mentorbot
COPY app.yaml /etc/mentorbot/app.yaml
ENV PATH=/opt/mentorbot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    MENTORBOT_CONFIG=/etc/mentorbot/app.yaml \
    MENTORBOT_ENV=production \
    HOST=0.0.0.0 \
    PORT=3978
WORKDIR /app
USER 10001:10001
EXPOSE 3978
# Liveness through the bot's own /healthz on $PORT. The slim base has no curl or wget,
# so Python's standard library asks (a failed or non-2xx answer exits non-zero).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3978'), timeout=4)"]
# `mentorbot run` serves HTTP on $PORT, runs the scheduler and the delivery worker, and
# applies pending migrations first (one replica at a time, under a database lock);
# `mentorbot migrate` does only that, as a one-shot before an upgrade.
CMD ["mentorbot", "run"]
