# The image the lessons run in. Offline by default; pass --env-file .env for a real provider.
#   docker build -t callbacks .
#   docker run -it --rm -v "$PWD":/home/user/app callbacks /bin/bash
ARG BASE=python:3.13-slim
FROM ${BASE}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONIOENCODING=utf-8 \
    PYTHONUTF8=1 \
    LANG=C.UTF-8 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A non-root user whose files on a mounted folder belong to you. 1000 is the first user on
# most Linux machines; build with --build-arg UID=$(id -u) if yours differs.
ARG UID=1000
RUN useradd --create-home --uid "${UID}" user \
    && install -d -o user -g user /home/user/app

WORKDIR /home/user/app

# Dependencies first, in their own layer: editing a lesson doesn't reinstall them. uv installs
# the complete lock, requirements.txt, in half pip's time (BENCHMARKS.md), then is removed.
COPY requirements.txt requirements-setup.txt ./
RUN pip install --no-cache-dir -r requirements-setup.txt \
    && uv pip install --system --no-cache --compile-bytecode --system-certs -r requirements.txt \
    && pip uninstall --yes uv

COPY --chown=user:user . .
# Numeric, as hadolint prefers: this is `user`.
USER ${UID}

CMD ["python", "-m", "tutorial_env", "tour"]
