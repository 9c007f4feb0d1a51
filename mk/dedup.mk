# Near-duplicate index (pipeline/dedup): benchmark, and the store-agnostic suite on SQLite.
.PHONY: bench-dedup test-dedup-sqlite

# About 10 minutes on 2 cores; hashes of real photos are cached in var/bench-dedup/.
bench-dedup: $(VENV)/.installed ## near-duplicate index benchmark (recall, probes, RRU at 1M)
	PYTHONPATH=. $(PY) scripts/bench_dedup.py

# `make test` runs the dedup suite on PostgreSQL; this runs it again with SQLite as the database.
test-dedup-sqlite: $(VENV)/.installed ## the dedup store suite again with SQLite as the database
	DATABASE_URL=sqlite:///$(CURDIR)/var/dedup-test.sqlite3 $(VENV)/bin/pytest -q tests/pipeline/dedup
