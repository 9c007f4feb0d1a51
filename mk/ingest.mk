# Ingest end to end (issue 17): uploads through the API to their verdicts, against the validator
# alone. Not part of `make test`: it moves ~5 GiB through the stack and takes minutes.
.PHONY: bench-ingest
bench-ingest: $(VENV)/.installed services ## ingest end to end (gunicorn, Redis, 2 Celery processes, PostgreSQL) against the validator alone
	timeout 3600 $(PY) scripts/bench_ingest.py
