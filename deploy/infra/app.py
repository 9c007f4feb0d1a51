"""``python -m deploy.infra.app``: synthesise the CloudFormation template, offline.

Needs no AWS credentials: the stack is environment-agnostic and looks nothing up.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

# jsii warns on every start under the system's Node 20; the warning is not ours to fix.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk

from deploy.infra.config import DeployConfig
from deploy.infra.stack import ParjanyaStack

STACK_NAME = "Parjanya"


def build_app(
    *, outdir: Path, validator_code: Path, config: DeployConfig | None = None
) -> tuple[cdk.App, ParjanyaStack]:
    app = cdk.App(outdir=str(outdir))
    stack = ParjanyaStack(
        app, STACK_NAME, config=config or DeployConfig(), validator_code=validator_code
    )
    return app, stack


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.infra.app", description=__doc__)
    parser.add_argument("--outdir", type=Path, default=Path("build/cdk.out"))
    parser.add_argument(
        "--validator-asset",
        type=Path,
        default=Path("build/lambda/validator"),
        help="folder with the validator Lambda's code and wheels (make lambda-zip builds it)",
    )
    parser.add_argument("--nat-gateways", type=int, default=DeployConfig.nat_gateways)
    parser.add_argument("--image-tag", default=DeployConfig.image_tag)
    args = parser.parse_args(argv)
    if not args.validator_asset.is_dir():
        print(f"synth: {args.validator_asset} is missing; run `make lambda-zip`", file=sys.stderr)
        return 1
    config = DeployConfig(nat_gateways=args.nat_gateways, image_tag=args.image_tag)
    app, _ = build_app(outdir=args.outdir, validator_code=args.validator_asset, config=config)
    assembly = app.synth()
    template = Path(assembly.directory) / f"{STACK_NAME}.template.json"
    print(f"synth: wrote {template}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
