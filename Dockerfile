# Image for the bot and the indexer (docker-compose.yml). CPU-only torch keeps it small.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false

WORKDIR /app

# The CPU build of torch first: a plain `torch` requirement would pull the multi-GB CUDA build.
RUN pip install --no-deps torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Then the exact versions of requirements.lock, each file checked by its sha256 (see docs/indexing.md).
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY pyproject.toml README.md ./
COPY indexing ./indexing
COPY bot ./bot
RUN pip install . --no-deps --no-build-isolation && pip check

RUN useradd --create-home --uid 1000 app && mkdir -p /data/articles && chown -R app /data
USER app

ENV ARTICLES_DIR=/data/articles \
    DATA_DIR=/data

CMD ["python", "-m", "bot", "run"]
