.PHONY: bench-gpu

# Scorer throughput at batch sizes 1, 4 and 16 with the tiny Qwen3-VL (CPU here, CUDA where
# present). The last line is the summary: gpu_worker: ips_b1=... ips_b16=... batch_speedup=...
bench-gpu: $(VENV)/.installed ## VLM scorer throughput at batch sizes 1, 4, 16 (tiny model on CPU here)
	$(PY) scripts/bench_gpu.py
