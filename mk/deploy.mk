# Deployment: the ARM64 wheel gate (network: PyPI), the validator Lambda zip, CDK synth.
.PHONY: arm64-report arm64-gate lambda-zip synth

# Matrix for every deployed requirement set (ARM64 sets plus the x86_64 GPU exception).
arm64-report: $(VENV)/.installed ## wheel-readiness matrix of every deployed requirement set
	$(PY) -m deploy.wheelgate

# CI gate: fails if anything in the ARM64 sets would build from source, is blocked, or is held
# back by the glibc ceiling.
arm64-gate: $(VENV)/.installed ## fail if an ARM64 requirement would build from source or is blocked
	$(PY) -m deploy.wheelgate --only-arch aarch64 --gate

lambda-zip: $(VENV)/.installed ## build the validator Lambda package
	$(PY) -m deploy.lambda_zip --out build/lambda/validator.zip

synth: $(VENV)/.installed lambda-zip ## synthesise the AWS CDK stack without AWS credentials (the Lambda zip needs PyPI)
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(PY) -m deploy.infra.app \
		--validator-asset build/lambda/validator --outdir build/cdk.out
