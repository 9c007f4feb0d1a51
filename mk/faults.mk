# Faults (issue 14): every scenario against real processes on 127.0.0.1. A few minutes, so not
# part of `make test`; each scenario also has a fast test there (scripts/faults.py names it).
.PHONY: faults

# FAULTS_DATABASE_URL (default parjanya_faults, recreated) and FAULTS_REDIS_URL (default Redis
# DB 3, flushed) let it run beside the test suite.
faults: $(VENV)/.installed services ## outages, killed processes, slow clients and outsiders against the real stack; prints a table
	$(PY) scripts/faults.py
