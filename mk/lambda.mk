# Serverless ingest (issue 5): the validator Lambda's benchmark in its clean venv.
.PHONY: bench-lambda

# A few minutes on 2 cores: builds (once) the clean venv under var/lambda-venv/, starts
# SeaweedFS and dynalite, times cold import and invocations against in-process validation.
bench-lambda: $(VENV)/.installed ## validator Lambda cold import and invoke time vs in-process
	$(PY) scripts/bench_lambda.py
