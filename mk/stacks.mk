# Burst stacks (pipeline/core/stacking.py): precision, recall and assignment time at 100k photos.
.PHONY: bench-stacks
# A few minutes on 2 cores; the ground-truth hashes are cached in var/bench-stacks/.
bench-stacks: $(VENV)/.installed services ## burst stacks on derived real bursts over a 100k-photo library
	$(PY) scripts/bench_stacks.py
