terraform {
  # 1.11: write-only arguments (secret_string_wo); 1.10: ephemeral input variables; 1.9: validation referring to
  # other variables and locals. Tested with 1.11.4.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.88, < 7" # 5.88: secret_string_wo; tested with 5.100.0
    }
  }
}
