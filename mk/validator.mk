# Validator (issue 3): threshold calibration and the speed benchmark.
.PHONY: calibrate bench-validator

calibrate: $(VENV)/.installed
	$(PY) scripts/calibrate.py

bench-validator: $(VENV)/.installed
	$(PY) scripts/bench_validator.py
