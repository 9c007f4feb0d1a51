"""The ingest configuration, read from the Django settings once per entry point (the Celery task,
`manage.py backfill`, the curator's "not a duplicate") and passed in; nothing below reads
settings. Defaults live in curation/settings/base.py only."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from pipeline.core.stacking import StackRules
from pipeline.core.validator import Thresholds
from pipeline.dedup.dynamodb_store import DynamoDbStore, make_client
from pipeline.dedup.identity import ScopeRule, dedup_scope
from pipeline.dedup.index import DedupStore
from pipeline.dedup.sql_store import SqlStore


@dataclass(frozen=True)
class DedupConfig:
    store: str  # "sql" or "dynamodb"
    table: str
    endpoint_url: str
    region: str
    radius: int
    dhash_radius: int
    scope_rule: ScopeRule

    def scope(self, *, owner_id: int) -> str:
        scope = dedup_scope(self.scope_rule, owner=owner_id)
        assert scope is not None  # every Photo has an owner
        return scope


@dataclass(frozen=True)
class LambdaConfig:
    """`PIPELINE_VALIDATION = "lambda"`: where the validator Lambda's results are read."""

    results_table: str
    dynamodb_endpoint_url: str
    region: str
    wait_s: float


@dataclass(frozen=True)
class IngestConfig:
    # Whether a scorer will claim what passes (SCORING_ENABLED); otherwise it goes to review
    # as `unscored`.
    scoring_enabled: bool
    thresholds: Thresholds
    preview_edge: int
    thumbnail_edge: int
    dedup: DedupConfig
    # Set when the validator Lambda judges each original first (PIPELINE_VALIDATION=lambda).
    lambda_results: LambdaConfig | None
    # Burst stacks (STACK_GAP_S, STACK_MAX_PHASH, STACK_MAX_DHASH).
    stack_rules: StackRules

    @property
    def preview_edges(self) -> tuple[int, int]:
        return (self.preview_edge, self.thumbnail_edge)

    @classmethod
    def from_settings(cls, *, scoring_enabled: bool | None = None) -> IngestConfig:
        """The configuration the settings describe; `scoring_enabled` overrides
        SCORING_ENABLED where the entry point already decided it."""
        try:
            scope_rule = ScopeRule(settings.DEDUP_SCOPE)
        except ValueError:
            raise ImproperlyConfigured(
                f"DEDUP_SCOPE must be 'owner' or 'global', not {settings.DEDUP_SCOPE!r}"
            ) from None
        if settings.DEDUP_STORE not in ("sql", "dynamodb"):
            raise ImproperlyConfigured(
                f"DEDUP_STORE must be 'sql' or 'dynamodb', not {settings.DEDUP_STORE!r}"
            )
        dedup = DedupConfig(
            store=settings.DEDUP_STORE,
            table=settings.DEDUP_TABLE,
            endpoint_url=settings.DEDUP_ENDPOINT_URL,
            region=settings.DEDUP_REGION,
            radius=settings.DEDUP_RADIUS,
            dhash_radius=settings.DEDUP_DHASH_RADIUS,
            scope_rule=scope_rule,
        )
        lambda_results = None
        if settings.PIPELINE_VALIDATION == "lambda":
            if dedup.store != "dynamodb":
                # The Lambda files each original in its DynamoDB index; a curator's "not a
                # duplicate" and backfill must decide against that same index.
                raise ImproperlyConfigured(
                    'PIPELINE_VALIDATION = "lambda" needs DEDUP_STORE = "dynamodb", with the '
                    "validator Lambda's DEDUP_TABLE."
                )
            lambda_results = LambdaConfig(
                results_table=settings.PIPELINE_LAMBDA_RESULTS_TABLE,
                dynamodb_endpoint_url=settings.PIPELINE_LAMBDA_DYNAMODB_ENDPOINT_URL,
                region=settings.AWS_S3_REGION_NAME,
                wait_s=settings.PIPELINE_LAMBDA_WAIT_S,
            )
        try:
            thresholds = Thresholds.from_overrides(settings.VALIDATOR_THRESHOLDS)
        except ValueError as error:
            raise ImproperlyConfigured(f"VALIDATOR_THRESHOLDS: {error}") from None
        return cls(
            scoring_enabled=(
                settings.SCORING_ENABLED if scoring_enabled is None else scoring_enabled
            ),
            thresholds=thresholds,
            preview_edge=settings.PREVIEW_LONG_EDGE,
            thumbnail_edge=settings.THUMBNAIL_LONG_EDGE,
            dedup=dedup,
            lambda_results=lambda_results,
            stack_rules=StackRules(
                settings.STACK_GAP_S, settings.STACK_MAX_PHASH, settings.STACK_MAX_DHASH
            ),
        )


@cache
def dedup_store(config: DedupConfig) -> DedupStore:
    """One per process and configuration: the DynamoDB store holds a thread pool and an HTTP
    connection pool."""
    if config.store == "dynamodb":
        client = make_client(config.endpoint_url or None, config.region)
        return DynamoDbStore(client, config.table)
    return SqlStore()
