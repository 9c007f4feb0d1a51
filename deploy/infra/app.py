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
    """The app with its one stack. Without a config, ``cdk -c natGateways=N`` still applies."""
    app = cdk.App(outdir=str(outdir))
    if config is None:
        nat_gateways = app.node.try_get_context("natGateways")
        config = DeployConfig(
            nat_gateways=int(nat_gateways) if nat_gateways is not None else 1,
        )
    stack = ParjanyaStack(app, STACK_NAME, config=config, validator_code=validator_code)
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
    parser.add_argument("--nat-gateways", type=int, help="default 1 (or cdk -c natGateways=N)")
    parser.add_argument("--image-tag", default=DeployConfig.image_tag)
    args = parser.parse_args(argv)
    if not args.validator_asset.is_dir():
        print(f"synth: {args.validator_asset} is missing; run `make lambda-zip`", file=sys.stderr)
        return 1
    config = None
    if args.nat_gateways is not None or args.image_tag != DeployConfig.image_tag:
        nat = args.nat_gateways if args.nat_gateways is not None else DeployConfig.nat_gateways
        config = DeployConfig(nat_gateways=nat, image_tag=args.image_tag)
    app, _ = build_app(outdir=args.outdir, validator_code=args.validator_asset, config=config)
    assembly = app.synth()
    template = Path(assembly.directory) / f"{STACK_NAME}.template.json"
    print(f"synth: wrote {template}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
