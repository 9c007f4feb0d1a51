"""ARM64 wheel-readiness gate.

Resolves a requirements file for a target interpreter and platform with pip's own resolver and
sorts every package, transitive ones included, into one of four states: pure Python, binary wheel
for the target, source build required, blocker.
"""
