"""The CDK app, synthesised once per session, offline and without AWS credentials."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk.assertions import Match, Template

from deploy.infra.app import STACK_NAME, build_app
from deploy.infra.config import DeployConfig
from deploy.infra.stack import ParjanyaStack

TWO_NAT_STACK = "ParjanyaTwoNat"


@pytest.fixture(scope="session")
def assembly_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cdk")
    validator_code = root / "validator"
    (validator_code / "pipeline").mkdir(parents=True)
    (validator_code / "pipeline" / "lambda_handler.py").write_text("def handler(e, c): ...\n")
    with pytest.MonkeyPatch.context() as patch:
        # Synth must not depend on credentials, a profile or a region.
        for name in [k for k in os.environ if k.startswith("AWS_")]:
            patch.delenv(name)
        app, _ = build_app(outdir=root / "cdk.out", validator_code=validator_code)
        ParjanyaStack(
            app, TWO_NAT_STACK, config=DeployConfig(nat_gateways=2), validator_code=validator_code
        )
        return Path(app.synth().directory)


def _load(assembly_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((assembly_dir / f"{name}.template.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def raw(assembly_dir: Path) -> dict[str, Any]:
    return _load(assembly_dir, STACK_NAME)


@pytest.fixture(scope="session")
def template(raw: dict[str, Any]) -> Template:
    return Template.from_json(raw)


def _of_type(raw: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource.get("Properties", {})
        for name, resource in raw["Resources"].items()
        if resource["Type"] == kind
    }


def test_every_lambda_is_arm64_python312(raw: dict[str, Any]) -> None:
    functions = _of_type(raw, "AWS::Lambda::Function")
    # Exactly ours: a CDK helper Lambda (x86, another runtime) sneaking in would show up here.
    assert sorted(p["Handler"] for p in functions.values()) == [
        "handler.handler",
        "pipeline.lambda_handler.handler",
    ]
    for props in functions.values():
        assert props["Architectures"] == ["arm64"]
        assert props["Runtime"] == "python3.12"


def test_ecs_tasks_are_arm64_and_the_g5_group_is_the_only_x86(raw: dict[str, Any]) -> None:
    tasks = _of_type(raw, "AWS::ECS::TaskDefinition")
    fargate = {n: p for n, p in tasks.items() if "FARGATE" in p.get("RequiresCompatibilities", [])}
    assert len(fargate) == 3  # web, worker, scaler decision
    for props in fargate.values():
        assert props["RuntimePlatform"]["CpuArchitecture"] == "ARM64"

    [gpu_task] = [n for n in tasks if n not in fargate]
    assert tasks[gpu_task]["RequiresCompatibilities"] == ["EC2"]
    services = _of_type(raw, "AWS::ECS::Service")
    [gpu_service] = [p for p in services.values() if p["TaskDefinition"] == {"Ref": gpu_task}]
    assert gpu_service["SchedulingStrategy"] == "DAEMON"
    assert all(p.get("LaunchType") == "FARGATE" for p in services.values() if p is not gpu_service)

    # The only EC2 capacity anywhere: one launch template, a g5, in one Auto Scaling group.
    assert not _of_type(raw, "AWS::EC2::Instance")
    [launch] = _of_type(raw, "AWS::EC2::LaunchTemplate").values()
    assert launch["LaunchTemplateData"]["InstanceType"].startswith("g5.")
    [group] = _of_type(raw, "AWS::AutoScaling::AutoScalingGroup").values()
    assert len(_of_type(raw, "AWS::ECS::CapacityProvider")) == 1
    assert group["MinSize"] == "0"


def test_gpu_group_has_scale_in_protection_and_a_draining_hook(template: Template) -> None:
    template.has_resource_properties(
        "AWS::AutoScaling::AutoScalingGroup",
        {"NewInstancesProtectedFromScaleIn": True, "LaunchTemplate": Match.any_value()},
    )
    template.resource_count_is("AWS::AutoScaling::LifecycleHook", 1)
    template.has_resource_properties(
        "AWS::AutoScaling::LifecycleHook",
        {
            "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
            "DefaultResult": "CONTINUE",
            "HeartbeatTimeout": 900,
        },
    )


def test_vpc_has_s3_and_dynamodb_gateway_endpoints(raw: dict[str, Any]) -> None:
    endpoints = _of_type(raw, "AWS::EC2::VPCEndpoint").values()
    services = sorted(
        re.findall(r"\.(s3|dynamodb)\"", json.dumps(e["ServiceName"]))[0] for e in endpoints
    )
    assert services == ["dynamodb", "s3"]
    assert all(e.get("VpcEndpointType", "Gateway") == "Gateway" for e in endpoints)


def test_nat_gateway_count_follows_the_parameter(raw: dict[str, Any], assembly_dir: Path) -> None:
    assert DeployConfig().nat_gateways == 1
    assert len(_of_type(raw, "AWS::EC2::NatGateway")) == 1
    assert len(_of_type(_load(assembly_dir, TWO_NAT_STACK), "AWS::EC2::NatGateway")) == 2


def test_bucket_is_private_encrypted_and_aborts_incomplete_uploads(template: Template) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "LifecycleConfiguration": {
                "Rules": [
                    Match.object_like(
                        {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}
                    )
                ]
            },
        },
    )
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_validator_runs_on_object_created_under_the_upload_prefix(
    raw: dict[str, Any], template: Template
) -> None:
    [bucket] = _of_type(raw, "AWS::S3::Bucket").values()
    [config] = bucket["NotificationConfiguration"]["LambdaConfigurations"]
    assert config["Event"] == "s3:ObjectCreated:*"
    assert config["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "originals/"}]
    validator = next(
        n
        for n, p in _of_type(raw, "AWS::Lambda::Function").items()
        if p["Handler"] == "pipeline.lambda_handler.handler"
    )
    assert config["Function"] == {"Fn::GetAtt": [validator, "Arn"]}
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {"Principal": "s3.amazonaws.com", "FunctionName": {"Fn::GetAtt": [validator, "Arn"]}},
    )


def test_fleet_scaler_ticks_every_two_minutes(raw: dict[str, Any]) -> None:
    [rule] = _of_type(raw, "AWS::Events::Rule").values()
    assert rule["ScheduleExpression"] == "rate(2 minutes)"
    functions = _of_type(raw, "AWS::Lambda::Function").items()
    scaler = next(n for n, p in functions if p["Handler"] == "handler.handler")
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": [scaler, "Arn"]}


def test_tables_are_on_demand_with_the_keys_the_code_uses(raw: dict[str, Any]) -> None:
    tables = _of_type(raw, "AWS::DynamoDB::Table").values()
    assert all(t["BillingMode"] == "PAY_PER_REQUEST" for t in tables)
    schemas = []
    for table in tables:
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        schemas.append(
            [
                (k["AttributeName"], k["KeyType"], types[k["AttributeName"]])
                for k in table["KeySchema"]
            ]
        )
    schemas.sort()
    assert schemas == [
        [("object_key", "HASH", "S"), ("etag", "RANGE", "S")],  # pipeline.lambda_results
        [("pk", "HASH", "S"), ("sk", "RANGE", "N")],  # pipeline.dedup.dynamodb_store
    ]


def _statements(raw: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for props in _of_type(raw, "AWS::IAM::Policy").values():
        yield from props["PolicyDocument"]["Statement"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_actions_on_data(raw: dict[str, Any]) -> None:
    tables = set(_of_type(raw, "AWS::DynamoDB::Table"))
    checked = 0
    for statement in _statements(raw):
        actions = _as_list(statement["Action"])
        resources = json.dumps(statement["Resource"])
        touches_tables = any(table in resources for table in tables)
        touches_data = any(a.startswith(("dynamodb:", "s3:")) for a in actions)
        if touches_tables or touches_data:
            checked += 1
            assert all("*" not in action for action in actions), statement
            assert statement["Resource"] != "*", statement
    assert checked >= 6  # web, worker, validator on tables and objects at least


def test_template_passes_cfn_lint(assembly_dir: Path) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "parseable", str(assembly_dir / f"{STACK_NAME}.template.json")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    rules = set(re.findall(r":([EWI]\d{4}):", result.stdout))
    # W3005 (explicit DependsOn next to a Ref) is how CDK writes templates; nothing else passes.
    assert rules <= {"W3005"}, result.stdout
    assert result.stdout.count(":W3005:") == len(result.stdout.splitlines())
    assert result.returncode in (0, 4), result.stderr  # 4: warnings only


@pytest.mark.parametrize("count", [0, 3])
def test_nat_gateway_parameter_outside_one_per_az_is_refused(count: int) -> None:
    with pytest.raises(ValueError, match=r"nat_gateways must be 1\.\.2"):
        DeployConfig(nat_gateways=count)


def test_scaler_decision_and_gpu_worker_are_pointed_at_the_g5_group(raw: dict[str, Any]) -> None:
    [group] = _of_type(raw, "AWS::AutoScaling::AutoScalingGroup")
    commands = {}
    for props in _of_type(raw, "AWS::ECS::TaskDefinition").values():
        [container] = props["ContainerDefinitions"]
        env = {e["Name"]: e["Value"] for e in container["Environment"]}
        commands[container["Command"][0]] = env
    for role in ("scale", "gpu-worker"):
        assert commands[role]["GPU_FLEET_ASG_NAME"] == {"Ref": group}
        assert commands[role]["PARJANYA_ROLE"] == role
    assert commands["scale"]["GPU_FLEET_TICK_SECONDS"] == "120"


def _web_container(raw: dict[str, Any]) -> dict[str, Any]:
    for props in _of_type(raw, "AWS::ECS::TaskDefinition").values():
        [container] = props["ContainerDefinitions"]
        if container["Command"] == ["web"]:
            return container  # type: ignore[no-any-return]
    raise AssertionError("no web task")


def test_the_site_is_https_with_the_certificate_given_at_deploy_and_http_redirects(
    raw: dict[str, Any],
) -> None:
    assert raw["Parameters"]["CertificateArn"]["Type"] == "String"
    listeners = {
        p["Port"]: p for p in _of_type(raw, "AWS::ElasticLoadBalancingV2::Listener").values()
    }
    assert sorted(listeners) == [80, 443]
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    [redirect] = listeners[80]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    assert redirect["RedirectConfig"]["Port"] == "443"


def test_django_accepts_the_site_name_given_at_deploy_and_trusts_its_https_origin(
    raw: dict[str, Any],
) -> None:
    env = {e["Name"]: e["Value"] for e in _web_container(raw)["Environment"]}
    assert env["DJANGO_ALLOWED_HOSTS"] == {"Ref": "SiteDomainName"}
    assert env["DJANGO_CSRF_TRUSTED_ORIGINS"] == {
        "Fn::Join": ["", ["https://", {"Ref": "SiteDomainName"}]]
    }
    assert env["TRUSTED_PROXY_COUNT"] == "1"


def test_the_load_balancer_checks_readiness_over_plain_http(raw: dict[str, Any]) -> None:
    [group] = _of_type(raw, "AWS::ElasticLoadBalancingV2::TargetGroup").values()
    assert group["HealthCheckPath"] == "/readyz/"
    assert group["Protocol"] == "HTTP"
    assert group["Matcher"] == {"HttpCode": "200"}
    assert group["HealthCheckIntervalSeconds"] * group["UnhealthyThresholdCount"] >= 60
