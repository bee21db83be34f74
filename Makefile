# The two commands of the README: `make run` and `make test`.
.PHONY: run test lint setup lock index bench clean

run:
	@scripts/run.sh

test:
	@scripts/setup.sh dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false .venv/bin/python -m pytest -q

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

setup:
	@scripts/setup.sh dev

# Refresh requirements.lock and requirements-dev.lock after changing dependencies in pyproject.toml.
lock:
	@scripts/lock.sh

index:
	@scripts/setup.sh
	HF_HUB_OFFLINE=1 .venv/bin/python -m indexing

clean:
	rm -rf data/qdrant .pytest_cache .ruff_cache
