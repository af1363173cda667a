# frozen_string_literal: true

# Handlers of templates/approvals_route_by_amount.yaml.
module Approvals
  # The decision: manager_review above config["manager_above"], auto_approve otherwise.
  class Route < TaskerCore::StepHandler
    def call(task, _sequence, step)
      amount = task.context["amount"]
      raise TaskerCore::PermanentError, "context must have a numeric amount, got #{amount.inspect}" unless amount.is_a?(Numeric)

      branch = amount > step.config.fetch("manager_above") ? "manager_review" : "auto_approve"
      TaskerCore::Decision.new([branch], result: { "amount" => amount, "branch" => branch })
    end
  end

  class AutoApprove < TaskerCore::StepHandler
    def call(_task, sequence, _step)
      { "approved" => true, "by" => "policy", "amount" => sequence.get("route")["amount"] }
    end
  end

  class ManagerReview < TaskerCore::StepHandler
    def call(_task, sequence, _step)
      { "approved" => true, "by" => "manager", "amount" => sequence.get("route")["amount"] }
    end
  end

  # Runs after whichever branch ran; the other one reads as skipped.
  class Record < TaskerCore::StepHandler
    def call(_task, sequence, _step)
      ran = %w[auto_approve manager_review].reject { |name| sequence.skipped?(name) }
      { "decided_by" => ran, "approval" => sequence.get(ran.first) }
    end
  end
end
