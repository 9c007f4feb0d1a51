"""Everything about the deployment that is a choice rather than a consequence."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableKeys:
    """A DynamoDB key schema: attribute names, both strings (``S``)."""

    partition: str = "pk"
    sort: str | None = "sk"


@dataclass(frozen=True)
class DeployConfig:
    nat_gateways: int = 1
    max_azs: int = 2
    image_tag: str = "latest"
    upload_prefix: str = "uploads/"
    # Key schemas match pipeline.dedup.dynamodb_store and the Lambda's result items.
    dedup_keys: TableKeys = field(default_factory=TableKeys)
    results_keys: TableKeys = field(default_factory=TableKeys)
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
    scaler_rate_minutes: int = 2
    health_check_path: str = "/healthz/"
