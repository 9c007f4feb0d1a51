# Operator tools: backfill benchmark (issue 8).
.PHONY: bench-backfill

# Seeds 100k photos in its own database (parjanya_bench_backfill) and times manage.py backfill.
bench-backfill: $(VENV)/.installed services ## manage.py backfill over a seeded 100k-photo library
	$(PY) scripts/bench_backfill.py
