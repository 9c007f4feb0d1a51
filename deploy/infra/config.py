"""Everything about the deployment that is a choice rather than a consequence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyAttribute:
    name: str
    type: str = "S"  # DynamoDB scalar type: S, N or B


@dataclass(frozen=True)
class TableKeys:
    partition: KeyAttribute
    sort: KeyAttribute | None = None


# pipeline.dedup.dynamodb_store: items keyed by bucket ("pk", S) and shard/photo ("sk", N).
DEDUP_KEYS = TableKeys(KeyAttribute("pk"), KeyAttribute("sk", "N"))
# pipeline.lambda_results: one result per (object key, ETag).
RESULTS_KEYS = TableKeys(KeyAttribute("object_key"), KeyAttribute("etag"))


@dataclass(frozen=True)
class DeployConfig:
    nat_gateways: int = 1
    max_azs: int = 2
    image_tag: str = "latest"
    # The validator Lambda reads originals and writes previews (pipeline.lambda_handler).
    originals_prefix: str = "originals/"
    previews_prefix: str = "previews/lambda/"
    dedup_keys: TableKeys = DEDUP_KEYS
    results_keys: TableKeys = RESULTS_KEYS
    web_cpu: int = 512
    web_memory_mib: int = 1024
    web_count: int = 2
    worker_cpu: int = 1024
    worker_memory_mib: int = 2048
    worker_count: int = 1
    validator_memory_mib: int = 1024
    validator_timeout_s: int = 120
    gpu_instance_type: str = "g5.xlarge"
    gpu_max_instances: int = 4
    # How long a terminating GPU instance may finish its leased batch before it goes.
    gpu_drain_minutes: int = 15
    # Directory under the instance's /opt/parjanya/models holding the VLM weights.
    gpu_model_dir: str = "qwen3-vl"
    scaler_rate_minutes: int = 2
    health_check_path: str = "/readyz/"

    def __post_init__(self) -> None:
        if not 1 <= self.nat_gateways <= self.max_azs:
            # Private tasks reach ECR, Secrets Manager and CloudWatch through NAT; with none they
            # would need interface endpoints, which this stack does not define.
            raise ValueError(f"nat_gateways must be 1..{self.max_azs}, got {self.nat_gateways}")
