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
  # scenario needs. It sleeps in bash's own `read` on a FIFO, which the harness
  # writes a byte to when it opens the gate (no process forked while it
  # holds); where no FIFO can be made it polls. Without LOCKGRADER_GATE (every
  # learner run) it returns at once.
  provisioner "local-exec" {
    interpreter = ["/bin/bash", "-c"]
    command     = <<-EOT
      echo "deploying release ${var.release}"
      if [ -n "$${LOCKGRADER_GATE:-}" ]; then
        if mkfifo "$LOCKGRADER_GATE.wake" 2>/dev/null && exec 9<>"$LOCKGRADER_GATE.wake"; then
          : > "$LOCKGRADER_GATE.entered"
          until [ -e "$LOCKGRADER_GATE" ]; do read -r -n 1 -t 1 -u 9 _ || :; done
        else
          : > "$LOCKGRADER_GATE.entered"
          until [ -e "$LOCKGRADER_GATE" ]; do sleep 0.02; done
        fi
      fi
    EOT
  }
}

output "release" {
  value = terraform_data.deployment.output
}
