"""The AWS calls an MWAA environment and the wheel make with the execution role, and calls it must not be
able to make, as iam_eval Requests, for one environment's concrete ARNs.

Allowed calls follow AWS's documented MWAA execution role
(https://docs.aws.amazon.com/mwaa/latest/userguide/mwaa-create-role.html): metrics, the source bucket, the
environment's log groups, the Celery SQS queues (whose account is MWAA's own, hence `*`), KMS through those
services; plus the wheel's one call, Secrets Manager GetSecretValue of the lineage secret (the
`aws-secretsmanager:` reference, tests of secrets.py), which decrypts with the customer key through Secrets
Manager (`kms:ViaService` = secretsmanager.<region>.amazonaws.com).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from omlineage_devkit.iam_eval import Request


@dataclass(frozen=True)
class Environment:
    region: str
    account: str
    name: str
    bucket: str
    kms_key_arn: Optional[str] = None
    secret_arn: Optional[str] = None

    @property
    def arn(self) -> str:
        return f"arn:aws:airflow:{self.region}:{self.account}:environment/{self.name}"

    def log_group(self, kind: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:airflow-{self.name}-{kind}:*"


def via(service: str, env: Environment) -> dict[str, str]:
    return {"kms:ViaService": f"{service}.{env.region}.amazonaws.com"}


MWAA_QUEUE_ACCOUNT = "123456789099"  # MWAA's service account owns the Celery queues


def allowed_calls(env: Environment) -> list[Request]:
    queue = f"arn:aws:sqs:{env.region}:{MWAA_QUEUE_ACCOUNT}:airflow-celery-abc123"
    calls = [
        Request("airflow:PublishMetrics", env.arn),
        Request("s3:GetObject", f"arn:aws:s3:::{env.bucket}/dags/etl.py"),
        Request("s3:GetObjectVersion", f"arn:aws:s3:::{env.bucket}/requirements.txt"),
        Request("s3:ListBucket", f"arn:aws:s3:::{env.bucket}"),
        Request("s3:GetBucketVersioning", f"arn:aws:s3:::{env.bucket}"),
        Request("s3:GetAccountPublicAccessBlock", "*"),
        Request("logs:CreateLogStream", env.log_group("Task")),
        Request("logs:PutLogEvents", env.log_group("Task")),
        Request("logs:CreateLogGroup", env.log_group("Scheduler")),
        Request("logs:GetLogEvents", env.log_group("Worker")),
        Request("logs:DescribeLogGroups", "*"),
        Request("cloudwatch:PutMetricData", "*"),
        *(
            Request(f"sqs:{a}", queue)
            for a in ("SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueUrl")
        ),
    ]
    if env.kms_key_arn:
        for service in ("s3", "sqs", "logs"):
            calls.append(Request("kms:Decrypt", env.kms_key_arn, via(service, env)))
        calls.append(Request("kms:GenerateDataKey", env.kms_key_arn, via("s3", env)))
    else:  # the AWS owned key of the queues lives in another account
        aws_owned = f"arn:aws:kms:{env.region}:{MWAA_QUEUE_ACCOUNT}:key/aws-owned"
        calls.append(Request("kms:Decrypt", aws_owned, via("sqs", env)))
    if env.secret_arn:
        calls.append(Request("secretsmanager:GetSecretValue", env.secret_arn))
        if env.kms_key_arn:
            calls.append(Request("kms:Decrypt", env.kms_key_arn, via("secretsmanager", env)))
    return calls


def denied_calls(env: Environment) -> list[Request]:
    other_secret = f"arn:aws:secretsmanager:{env.region}:{env.account}:secret:prod/db-password-AbCdEf"
    calls = [
        Request("secretsmanager:GetSecretValue", other_secret),
        Request("secretsmanager:ListSecrets", "*"),
        Request("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/data.csv"),
        Request("s3:PutObject", f"arn:aws:s3:::{env.bucket}/dags/evil.py"),
        Request("s3:DeleteObject", f"arn:aws:s3:::{env.bucket}/dags/etl.py"),
        Request("s3:ListAllMyBuckets", f"arn:aws:s3:::{env.bucket}"),
        Request("logs:PutLogEvents", f"arn:aws:logs:{env.region}:{env.account}:log-group:other-app:*"),
        Request("logs:DeleteLogGroup", env.log_group("Task")),
        Request("sqs:SendMessage", f"arn:aws:sqs:{env.region}:{env.account}:payments"),
        Request("sqs:DeleteQueue", f"arn:aws:sqs:{env.region}:{MWAA_QUEUE_ACCOUNT}:airflow-celery-abc123"),
        Request("airflow:PublishMetrics", f"arn:aws:airflow:{env.region}:{env.account}:environment/other"),
        Request("iam:PassRole", f"arn:aws:iam::{env.account}:role/admin"),
        Request("kms:Decrypt", f"arn:aws:kms:{env.region}:{env.account}:key/some-other-key", via("s3", env)),
    ]
    if env.kms_key_arn:
        calls += [
            Request("kms:Decrypt", env.kms_key_arn),  # called directly, not through a service
            Request("kms:Decrypt", env.kms_key_arn, via("ec2", env)),
            Request("kms:Decrypt", env.kms_key_arn, {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}),
            Request("kms:CreateGrant", env.kms_key_arn, via("s3", env)),
        ]
    if env.secret_arn:
        calls += [
            Request("secretsmanager:PutSecretValue", env.secret_arn),
            Request("secretsmanager:DeleteSecret", env.secret_arn),
        ]
    return calls
