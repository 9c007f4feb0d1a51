"""The pip invocation both deploy tools use: the wheel gate (dry run) and the Lambda packager."""

from __future__ import annotations

import sys


def isolated_pip_install(*args: str) -> list[str]:
    """`pip install ARGS` run by this interpreter, blind to the machine's pip configuration."""
    return [
        sys.executable,
        "-m",
        "pip",
        # --isolated: the machine's pip.conf and PIP_* variables (extra indexes, constraints)
        # must not change what is resolved for the target.
        "--isolated",
        "--disable-pip-version-check",
        "--no-input",
        "install",
        *args,
    ]
