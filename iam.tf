# Execution role: AWS's documented MWAA execution-role policy, scoped to this environment's bucket, log groups,
# Celery queues, KMS key and lineage secret. With create_execution_role = false attach
# output.execution_role_policy_json to your role yourself.

locals {
  environment_arn = "arn:${local.partition}:airflow:${local.region}:${local.account_id}:environment/${var.name}"
  log_groups_arn  = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:airflow-${var.name}-*"
  # MWAA's Celery queues live in a service-owned account, hence the account wildcard (as in AWS's documented policy).
  celery_queues_arn = "arn:${local.partition}:sqs:${local.region}:*:airflow-celery-*"
}

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "MWAAAssumeRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.environment_arn]
    }
  }
}

data "aws_iam_policy_document" "execution" {
  #checkov:skip=CKV_AWS_356:logs:DescribeLogGroups, cloudwatch:PutMetricData and s3:GetAccountPublicAccessBlock support no resource scoping (AWS's documented MWAA policy uses "*").
  #checkov:skip=CKV_AWS_111:The only unscoped write is cloudwatch:PutMetricData, which has no resource-level permissions.

  statement {
    sid       = "PublishMetrics"
    actions   = ["airflow:PublishMetrics"]
    resources = [local.environment_arn]
  }

  statement {
    sid       = "DenyListAllBuckets"
    effect    = "Deny"
    actions   = ["s3:ListAllMyBuckets"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
  }

  statement {
    sid       = "ReadSourceBucket"
    actions   = ["s3:GetObject*", "s3:GetBucket*", "s3:List*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
  }

  statement {
    sid = "WriteOwnLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:CreateLogGroup",
      "logs:PutLogEvents",
      "logs:GetLogEvents",
      "logs:GetLogRecord",
      "logs:GetLogGroupFields",
      "logs:GetQueryResults",
    ]
    resources = [local.log_groups_arn]
  }

  statement {
    sid       = "UnscopableReads"
    actions   = ["logs:DescribeLogGroups", "s3:GetAccountPublicAccessBlock"]
    resources = ["*"]
  }

  statement {
    sid       = "PutMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
  }

  statement {
    sid = "CeleryQueues"
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
    ]
    resources = [local.celery_queues_arn]
  }

  # Customer key: used through SQS, S3, Logs and Secrets Manager only.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "CustomerKey"
      actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"]
      resources = [statement.value]
      condition {
        test     = "StringLike"
        variable = "kms:ViaService"
        values = [
          "sqs.${local.region}.amazonaws.com",
          "s3.${local.region}.amazonaws.com",
          "logs.${local.region}.amazonaws.com",
          "secretsmanager.${local.region}.amazonaws.com",
        ]
      }
    }
  }

  # No customer key: the Celery queues use an AWS owned key, reachable only through SQS.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [1] : []
    content {
      sid           = "AwsOwnedQueueKey"
      actions       = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"]
      not_resources = ["arn:${local.partition}:kms:*:${local.account_id}:key/*"]
      condition {
        test     = "StringLike"
        variable = "kms:ViaService"
        values   = ["sqs.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.lineage_use_secrets_manager ? [1] : []
    content {
      sid       = "ReadLineageSecret"
      actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = [local.lineage_secret_arn]
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create_execution_role ? 1 : 0

  name_prefix          = substr("${var.name}-mwaa-", 0, 38)
  description          = "MWAA execution role of environment ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.execution_role_permissions_boundary
  tags                 = local.tags
}

resource "aws_iam_role_policy" "this" {
  count = var.create_execution_role ? 1 : 0

  name   = "mwaa-execution"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role_policy" "extra" {
  count = var.create_execution_role ? length(var.execution_role_policy_documents) : 0

  name   = "extra-${count.index}"
  role   = aws_iam_role.this[0].id
  policy = var.execution_role_policy_documents[count.index]
}

resource "aws_iam_role_policy_attachment" "extra" {
  count = var.create_execution_role ? length(var.execution_role_policy_arns) : 0

  role       = aws_iam_role.this[0].name
  policy_arn = var.execution_role_policy_arns[count.index]
}
