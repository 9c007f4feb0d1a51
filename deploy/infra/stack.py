"""The Parjanya stack: VPC, data stores, ECS on ARM64, the arm64 Lambdas and the g5 fleet."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import (
    Aws,
    CfnParameter,
    Duration,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as ecs_patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from deploy.infra.config import DeployConfig, KeyAttribute, TableKeys

SCALER_CODE = Path(__file__).resolve().parents[1] / "lambdas" / "scaler"
VALIDATOR_HANDLER = "pipeline.lambda_handler.handler"
# Read by the ECS tasks from the app secret; RDS and the Redis broker are provisioned apart.
APP_SECRET_KEYS = ("DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL")
# The item calls pipeline.dedup.dynamodb_store and pipeline.lambda_results make, and no more:
# no scans, no queries, no table administration. A new call needs a line here.
TABLE_READ_WRITE = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
)


_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _attribute(key: KeyAttribute) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


class ParjanyaStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        validator_code: Path,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.config = config

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=config.max_azs,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                ),
            ],
            gateway_endpoints={
                # S3 and DynamoDB traffic stays off the NAT gateways (and their per-GB charge).
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )

        # A fixed bucket name lets the S3 -> Lambda notification and the grants refer to the
        # bucket without CloudFormation references, which would form a cycle through the
        # function's permission.
        self.bucket_name = f"parjanya-photos-{Aws.ACCOUNT_ID}-{Aws.REGION}"
        self.bucket_arn = f"arn:{Aws.PARTITION}:s3:::{self.bucket_name}"
        self.bucket = self._bucket()
        self.dedup_table = self._table("DedupTable", config.dedup_keys)
        self.results_table = self._table("ResultsTable", config.results_keys)
        self.app_secret = secretsmanager.Secret(
            self,
            "AppSecret",
            description="Parjanya web/worker settings: " + ", ".join(APP_SECRET_KEYS),
        )

        # Deploy-time parameters: the site's name and its ACM certificate (same region).
        self.site_domain = CfnParameter(
            self,
            "SiteDomainName",
            type="String",
            description="Host name the site is served under (the certificate's name), e.g. "
            "photos.example.com; the only host Django accepts and its CSRF trusted origin",
            allowed_pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$",
            constraint_description="a lower-case host name, without scheme or port",
        )
        self.certificate_arn = CfnParameter(
            self,
            "CertificateArn",
            type="String",
            description="ARN of the ACM certificate for SiteDomainName, for the HTTPS listener",
            allowed_pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$",
            constraint_description="an ACM certificate ARN",
        )

        self.cluster = ecs.Cluster(
            self, "Cluster", vpc=self.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        self.web_repository = ecr.Repository(self, "WebImages", image_scan_on_push=True)
        self.gpu_repository = ecr.Repository(self, "GpuImages", image_scan_on_push=True)
        self.web_service = self._web_service()
        self.worker_service = self._worker_service()
        self.validator = self._validator(validator_code)
        self.gpu_group = self._gpu_fleet()
        self.scaler = self._scaler()

    # Storage -----------------------------------------------------------------------------------

    def _bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            "Photos",
            bucket_name=self.bucket_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=False,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                # Direct multipart RAW uploads that never complete would be billed forever.
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(2),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _table(self, construct_id: str, keys: TableKeys) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=_attribute(keys.partition),
            sort_key=_attribute(keys.sort) if keys.sort else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _grant_objects(self, role: iam.IGrantable, *, read: str, write: str | None) -> None:
        """Object access under key prefixes ("" for the whole bucket)."""
        role.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{self.bucket_arn}/{read}*"])
        )
        if write is None:
            return
        role.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[f"{self.bucket_arn}/{write}*"],
            )
        )
        role.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[self.bucket_arn],
            )
        )

    def _grant_tables(self, role: iam.IGrantable, actions: tuple[str, ...]) -> None:
        for table in (self.dedup_table, self.results_table):
            table.grant(role, *actions)

    # ECS on ARM64 ------------------------------------------------------------------------------

    def _app_environment(self) -> dict[str, str]:
        return {
            "DJANGO_SETTINGS_MODULE": "curation.settings.production",
            "AWS_STORAGE_BUCKET_NAME": self.bucket_name,
            "AWS_S3_REGION_NAME": Aws.REGION,
            "DEDUP_TABLE": self.dedup_table.table_name,
            "RESULTS_TABLE": self.results_table.table_name,
        }

    def _app_secrets(self) -> dict[str, ecs.Secret]:
        return {
            key: ecs.Secret.from_secrets_manager(self.app_secret, key) for key in APP_SECRET_KEYS
        }

    def _arm64_task(
        self, construct_id: str, *, cpu: int, memory_mib: int
    ) -> ecs.FargateTaskDefinition:
        return ecs.FargateTaskDefinition(
            self,
            construct_id,
            cpu=cpu,
            memory_limit_mib=memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )

    def _add_app_container(
        self,
        task: ecs.TaskDefinition,
        *,
        role: str,
        health_check: ecs.HealthCheck | None = None,
        environment: dict[str, str] | None = None,
    ) -> ecs.ContainerDefinition:
        return task.add_container(
            "app",
            image=ecs.ContainerImage.from_ecr_repository(
                self.web_repository, self.config.image_tag
            ),
            command=[role],
            environment={**self._app_environment(), "PARJANYA_ROLE": role, **(environment or {})},
            secrets=self._app_secrets(),
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=role, log_retention=logs.RetentionDays.ONE_MONTH
            ),
            health_check=health_check,
            readonly_root_filesystem=False,
        )

    def _entrypoint_health(self) -> ecs.HealthCheck:
        return ecs.HealthCheck(
            command=["CMD", "python", "/app/deploy/docker/entrypoint.py", "healthcheck"],
            interval=Duration.seconds(30),
            timeout=Duration.seconds(10),
            start_period=Duration.seconds(60),
            retries=3,
        )

    def _web_service(self) -> ecs.FargateService:
        config = self.config
        task = self._arm64_task("WebTask", cpu=config.web_cpu, memory_mib=config.web_memory_mib)
        health = self._entrypoint_health()
        site = self.site_domain.value_as_string
        container = self._add_app_container(
            task,
            role="web",
            health_check=health,
            environment={
                "DJANGO_ALLOWED_HOSTS": site,
                "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{site}",
                # Throttles and sign-in lockouts count the client's address, which the ALB
                # appends to X-Forwarded-For, not the ALB's own.
                "TRUSTED_PROXY_COUNT": "1",
            },
        )
        container.add_port_mappings(ecs.PortMapping(container_port=8000))
        self._grant_objects(task.task_role, read="", write="")
        web = ecs_patterns.ApplicationLoadBalancedFargateService(
            self,
            "Web",
            cluster=self.cluster,
            task_definition=task,
            desired_count=self.config.web_count,
            public_load_balancer=True,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
            # HTTPS on 443 with the given certificate; port 80 only redirects to it. The ALB
            # talks plain HTTP to the tasks inside the VPC and says so in X-Forwarded-Proto.
            certificate=acm.Certificate.from_certificate_arn(
                self, "SiteCertificate", self.certificate_arn.value_as_string
            ),
            protocol=elbv2.ApplicationProtocol.HTTPS,
            target_protocol=elbv2.ApplicationProtocol.HTTP,
            redirect_http=True,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
        )
        # Readiness (database, broker, storage): a task that cannot serve gets no traffic. The
        # check addresses the task by its private IP; curation.health answers it before
        # Django's host check.
        # ECS replaces a task the ALB finds unhealthy, so a blip of the broker or database must
        # not recycle every web task: a minute of failures first.
        web.target_group.configure_health_check(
            path=self.config.health_check_path,
            healthy_http_codes="200",
            interval=Duration.seconds(15),
            unhealthy_threshold_count=4,
        )
        return web.service

    def _worker_service(self) -> ecs.FargateService:
        task = self._arm64_task(
            "WorkerTask", cpu=self.config.worker_cpu, memory_mib=self.config.worker_memory_mib
        )
        self._add_app_container(task, role="worker", health_check=self._entrypoint_health())
        self._grant_objects(task.task_role, read="", write="")
        self._grant_tables(task.task_role, TABLE_READ_WRITE)
        return ecs.FargateService(
            self,
            "Worker",
            cluster=self.cluster,
            task_definition=task,
            desired_count=self.config.worker_count,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
        )

    # Lambdas on arm64 / python3.12 -------------------------------------------------------------

    def _arm64_function(
        self, construct_id: str, *, code: lambda_.Code, handler: str, **kwargs: object
    ) -> lambda_.Function:
        return lambda_.Function(
            self,
            construct_id,
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            code=code,
            handler=handler,
            log_retention=None,
            **kwargs,  # type: ignore[arg-type]
        )

    def _validator(self, code_dir: Path) -> lambda_.Function:
        failures = sqs.Queue(
            self,
            "ValidatorFailures",
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        function = self._arm64_function(
            "Validator",
            code=lambda_.Code.from_asset(str(code_dir)),
            handler=VALIDATOR_HANDLER,
            memory_size=self.config.validator_memory_mib,
            timeout=Duration.seconds(self.config.validator_timeout_s),
            environment={
                "DEDUP_TABLE": self.dedup_table.table_name,
                "RESULTS_TABLE": self.results_table.table_name,
                "ORIGINALS_PREFIX": self.config.originals_prefix,
                "PREVIEWS_PREFIX": self.config.previews_prefix,
            },
            dead_letter_queue=failures,
        )
        config = self.config
        self._grant_objects(function, read=config.originals_prefix, write=config.previews_prefix)
        self._grant_tables(function, TABLE_READ_WRITE)

        # S3 invokes the function directly with the ObjectCreated batch the handler expects.
        # Declared on the bucket resource itself: CDK's add_event_notification would add its
        # own custom-resource Lambda (x86, unpinned runtime) to the stack.
        permission = lambda_.CfnPermission(
            self,
            "ValidatorInvokeFromS3",
            action="lambda:InvokeFunction",
            function_name=function.function_arn,
            principal="s3.amazonaws.com",
            source_account=Aws.ACCOUNT_ID,
            source_arn=self.bucket_arn,
        )
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            lambda_configurations=[
                s3.CfnBucket.LambdaConfigurationProperty(
                    event="s3:ObjectCreated:*",
                    function=function.function_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[
                                s3.CfnBucket.FilterRuleProperty(
                                    name="prefix", value=self.config.originals_prefix
                                )
                            ]
                        )
                    ),
                )
            ]
        )
        cfn_bucket.node.add_dependency(permission)
        return function

    def _scaler(self) -> lambda_.Function:
        task = self._arm64_task("ScalerTask", cpu=256, memory_mib=512)
        self._add_app_container(task, role="scale", environment=self._fleet_environment())
        self.gpu_group_policy(task.task_role)
        security_group = ec2.SecurityGroup(
            self, "ScalerTaskSecurity", vpc=self.vpc, allow_all_outbound=True
        )
        private = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        function = self._arm64_function(
            "FleetScaler",
            code=lambda_.Code.from_asset(str(SCALER_CODE)),
            handler="handler.handler",
            memory_size=256,
            timeout=Duration.seconds(30),
            environment={
                "CLUSTER_ARN": self.cluster.cluster_arn,
                "TASK_DEFINITION_ARN": task.task_definition_arn,
                "SUBNET_IDS": ",".join(private.subnet_ids),
                "SECURITY_GROUP_IDS": security_group.security_group_id,
            },
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["ecs:RunTask"], resources=[task.task_definition_arn])
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:ListTasks"],
                resources=["*"],
                conditions={"ArnEquals": {"ecs:cluster": self.cluster.cluster_arn}},
            )
        )
        roles = [task.task_role.role_arn, task.obtain_execution_role().role_arn]
        function.add_to_role_policy(iam.PolicyStatement(actions=["iam:PassRole"], resources=roles))
        events.Rule(
            self,
            "FleetScalerTick",
            schedule=events.Schedule.rate(Duration.minutes(self.config.scaler_rate_minutes)),
            targets=[targets.LambdaFunction(function, retry_attempts=0)],
        )
        return function

    # The GPU fleet: g5 on x86_64, the one exception --------------------------------------------

    def _fleet_environment(self) -> dict[str, str]:
        """GPU worker settings (gpu_worker.conf) shared by the scaler decision and the worker."""
        return {
            "GPU_FLEET_ASG_NAME": self.gpu_group.auto_scaling_group_name,
            "GPU_FLEET_REGION": Aws.REGION,
            "GPU_FLEET_MAX_INSTANCES": str(self.config.gpu_max_instances),
            "GPU_FLEET_TICK_SECONDS": str(self.config.scaler_rate_minutes * 60),
        }

    def gpu_group_policy(self, role: iam.IGrantable) -> None:
        """What the scaler decision and the draining worker may do to the g5 group."""
        role.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:SetInstanceProtection",
                    "autoscaling:CompleteLifecycleAction",
                    "autoscaling:RecordLifecycleActionHeartbeat",
                ],
                resources=[self.gpu_group.auto_scaling_group_arn],
            )
        )
        role.grant_principal.add_to_principal_policy(
            # Describe calls take no resource-level permissions.
            iam.PolicyStatement(
                actions=[
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                ],
                resources=["*"],
            )
        )

    def _gpu_fleet(self) -> autoscaling.AutoScalingGroup:
        instance_role = iam.Role(
            self, "GpuInstanceRole", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")
        )
        security_group = ec2.SecurityGroup(self, "GpuSecurity", vpc=self.vpc)
        template = ec2.LaunchTemplate(
            self,
            "GpuLaunchTemplate",
            instance_type=ec2.InstanceType(self.config.gpu_instance_type),
            machine_image=ecs.EcsOptimizedImage.amazon_linux2(ecs.AmiHardwareType.GPU),
            role=instance_role,
            security_group=security_group,
            user_data=ec2.UserData.for_linux(),
            require_imdsv2=True,
            # Two hops: the worker container (bridge network) reads its instance id from IMDSv2
            # to set scale-in protection on itself.
            http_put_response_hop_limit=2,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        100, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                )
            ],
        )
        group = autoscaling.AutoScalingGroup(
            self,
            "GpuFleet",
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            launch_template=template,
            min_capacity=0,
            max_capacity=self.config.gpu_max_instances,
            # The scaler owns the desired capacity; an instance holding a lease must not be
            # picked for scale-in until its worker lifts the protection.
            new_instances_protected_from_scale_in=True,
        )
        group.add_lifecycle_hook(
            "Drain",
            lifecycle_transition=autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
            heartbeat_timeout=Duration.minutes(self.config.gpu_drain_minutes),
            default_result=autoscaling.DefaultResult.CONTINUE,
        )
        capacity = ecs.AsgCapacityProvider(
            self,
            "GpuCapacity",
            auto_scaling_group=group,
            enable_managed_scaling=False,
            enable_managed_termination_protection=False,
            # ECS stops the worker task (SIGTERM, then stop_timeout) on a terminating
            # instance. Turning this off would make CDK add its legacy drain hook instead: an
            # x86 Lambda and an SNS topic.
            enable_managed_draining=True,
        )
        self.cluster.add_asg_capacity_provider(capacity)
        self.gpu_group = group

        # EC2 task definitions take no runtime platform: the task is x86_64 because the only
        # EC2 capacity in the cluster is this g5 group.
        task = ecs.Ec2TaskDefinition(self, "GpuWorkerTask")
        container = task.add_container(
            "gpu-worker",
            image=ecs.ContainerImage.from_ecr_repository(
                self.gpu_repository, self.config.image_tag
            ),
            command=["gpu-worker"],
            memory_reservation_mib=12 * 1024,
            gpu_count=1,
            environment={
                **self._app_environment(),
                **self._fleet_environment(),
                "PARJANYA_ROLE": "gpu-worker",
                "VLM_MODEL_PATH": f"/models/{self.config.gpu_model_dir}",
            },
            secrets=self._app_secrets(),
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix="gpu-worker", log_retention=logs.RetentionDays.ONE_MONTH
            ),
            # The worker finishes its leased batch on SIGTERM; ECS waits this long.
            stop_timeout=Duration.seconds(120),
        )
        # Model weights are baked into the instance volume (AMI or user data), not the image.
        task.add_volume(name="models", host=ecs.Host(source_path="/opt/parjanya/models"))
        container.add_mount_points(
            ecs.MountPoint(container_path="/models", source_volume="models", read_only=True)
        )
        self._grant_objects(task.task_role, read="", write=None)
        self.gpu_group_policy(task.task_role)
        ecs.Ec2Service(self, "GpuWorker", cluster=self.cluster, task_definition=task, daemon=True)
        return group
