"""Deployment tooling: the ARM64 wheel gate, Lambda packaging, container images and the CDK app."""
