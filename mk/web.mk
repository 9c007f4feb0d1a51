# Web pages: gallery and curator changelist timed over a seeded 100k-photo library.
.PHONY: bench-web
bench-web: $(VENV)/.installed services ## gallery and curator page times over a seeded 100k-photo library
	$(PY) scripts/bench_web.py
