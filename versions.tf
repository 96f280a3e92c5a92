terraform {
  # 1.9: input validation may refer to other variables and locals (used for cross-input rules).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.46, < 7"
    }
  }
}
