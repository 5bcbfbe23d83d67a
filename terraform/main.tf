# The lab's root module: "Implementing Distributed State Locking".
#
# Only built-in pieces (terraform_data, local-exec), so `init` downloads
# nothing. The state lives in S3 and the lock in DynamoDB; the backend block is
# partial and filled per grading with -backend-config=backend.hcl.

terraform {
  backend "s3" {}
}

variable "release" {
  description = "The release being deployed. Changing it replaces the deployment (and runs its deploy step)."
  type        = string
  default     = "v1"
}

resource "terraform_data" "deployment" {
  triggers_replace = var.release
  input            = var.release

  # The deploy step. When the harness sets LOCKGRADER_GATE, the step marks
  # that it has started ("<gate>.entered") and waits until the harness creates
  # the gate file, so "an apply holds the lock" lasts exactly as long as a
  # scenario needs. Without LOCKGRADER_GATE (every learner run) it returns at once.
  provisioner "local-exec" {
    interpreter = ["/bin/bash", "-c"]
    command     = <<-EOT
      echo "deploying release ${var.release}"
      if [ -n "$${LOCKGRADER_GATE:-}" ]; then
        : > "$LOCKGRADER_GATE.entered"
        while [ ! -e "$LOCKGRADER_GATE" ]; do sleep 0.02; done
      fi
    EOT
  }
}

output "release" {
  value = terraform_data.deployment.output
}
