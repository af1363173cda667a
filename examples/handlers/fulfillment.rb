# frozen_string_literal: true

# Handlers of templates/fulfillment_process_order.yaml: a shop that meets real failures.
# The task's context["simulate"] can ask for them:
#   "short_stock_attempts" => N   reserve_inventory fails retryably on its first N attempts
#   "rate_limited_attempts" => N  process_payment fails retryably on its first N attempts
#   "retry_after" => seconds      the delay those retryable failures ask for (default 1)
#   "declined" => true            process_payment fails permanently (CARD_DECLINED)
# An unknown product id fails validate_order permanently (PRODUCT_NOT_FOUND).
module Fulfillment
  CATALOG = {
    "widget" => { "name" => "Widget", "price_cents" => 1_250 },
    "gadget" => { "name" => "Gadget", "price_cents" => 4_999 }
  }.freeze

  # Shared reading of the task's simulation switches.
  module Simulation
    def simulate(task, key, default = nil)
      task.context.fetch("simulate", {}).fetch(key, default)
    end

    def retry_after(task)
      simulate(task, "retry_after", 1)
    end
  end

  class ValidateOrder < TaskerCore::StepHandler
    def call(task, _sequence, _step)
      order = task.context.fetch("order")
      product = CATALOG[order["product_id"]]
      unless product
        raise TaskerCore::PermanentError.new("unknown product #{order["product_id"].inspect}",
                                             error_code: "PRODUCT_NOT_FOUND")
      end

      quantity = Integer(order.fetch("quantity", 1))
      { "product_id" => order["product_id"], "quantity" => quantity,
        "total_cents" => product["price_cents"] * quantity }
    end
  end

  class ReserveInventory < TaskerCore::StepHandler
    include Simulation

    def call(task, sequence, step)
      if step.attempt <= simulate(task, "short_stock_attempts", 0)
        raise TaskerCore::RetryableError.new("not enough stock in #{step.config["warehouse"]} yet",
                                             retry_after: retry_after(task))
      end

      order = sequence.get("validate_order")
      { "reservation_id" => "RES-#{task.uuid[0, 8]}", "warehouse" => step.config["warehouse"],
        "quantity" => order["quantity"] }
    end
  end

  class ProcessPayment < TaskerCore::StepHandler
    include Simulation

    def call(task, sequence, step)
      raise TaskerCore::PermanentError.new("card declined", error_code: "CARD_DECLINED") if simulate(task, "declined")

      if step.attempt <= simulate(task, "rate_limited_attempts", 0)
        raise TaskerCore::RetryableError.new("payment gateway rate limited", retry_after: retry_after(task))
      end

      { "charge_id" => "CH-#{task.uuid[0, 8]}", "amount_cents" => sequence.get("validate_order")["total_cents"],
        "reservation_id" => sequence.get("reserve_inventory")["reservation_id"] }
    end
  end

  class ShipOrder < TaskerCore::StepHandler
    def call(task, sequence, step)
      payment = sequence.get("process_payment")
      { "shipping_label" => "#{step.config["carrier"]}-#{task.uuid[-12, 12].upcase}",
        "charge_id" => payment["charge_id"] }
    end
  end
end
