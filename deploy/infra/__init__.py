"""AWS CDK (Python) app: the whole deployment, ARM64 everywhere except the g5 GPU fleet."""
