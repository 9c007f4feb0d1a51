.PHONY: scoring-deps

# PyTorch and transformers for the scorer: `make run` installs only the runtime (base.txt), and
# its `scorer` process needs these once VLM_MODEL_PATH points at weights.
scoring-deps: $(VENV)/.installed-vlm ## install PyTorch + transformers for the scorer (needed once VLM_MODEL_PATH is set)

$(VENV)/.installed-vlm: $(VENV)/.installed-base requirements/vlm.txt
	$(VENV)/bin/pip install --quiet -r requirements/vlm.txt
	touch $@
