# Validator (issue 3): threshold calibration and the speed benchmark.
.PHONY: calibrate bench-validator

calibrate: $(VENV)/.installed ## validator verdicts on the real, derived and synthetic sets; regenerates docs/calibration.md
	$(PY) scripts/calibrate.py

bench-validator: $(VENV)/.installed ## validator speed against the decode floor
	$(PY) scripts/bench_validator.py
