# frozen_string_literal: true

# The part of the demo that shows failures: fulfillment/process_order once on the happy path
# and once with a declined card (a permanent failure), printing what happened to each step.
class FulfillmentDemo
  ORDER = { "product_id" => "widget", "quantity" => 2 }.freeze
  CASES = [
    ["happy path", { "order" => ORDER }, "complete"],
    ["card declined", { "order" => ORDER, "simulate" => { "declined" => true } }, "error"],
    ["short stock, retried", { "order" => ORDER, "simulate" => { "short_stock_attempts" => 1, "retry_after" => 0.2 } },
     "complete"]
  ].freeze

  # Returns how many cases did not end as expected.
  def run
    puts "\n== fulfillment/process_order: failures, retries and what each step did"
    CASES.count do |label, context, expected|
      status = order(context)
      show(label, status)
      status.state != expected
    end
  end

  private

  def order(context)
    task = TaskerCore.create_task(namespace: "fulfillment", name: "process_order", version: "1.0.0",
                                  context: context, initiator: "examples/demo.rb", reason: "demo")
    TaskerCore.wait_for_task(task.uuid, timeout: 60)
  end

  def show(label, status)
    puts "#{label}: task #{status.state} in #{status["duration_ms"].round(1)} ms"
    status.steps.each { |step| puts "    #{describe(step)}" }
  end

  def describe(step)
    line = format("%<name>-18s %<state>-18s attempts %<attempts>d/%<max>d", name: step.name, state: step.state,
                                                                           attempts: step.attempts, max: step.max_attempts)
    error = step.last_error
    line += "  last error: #{error["class"]} #{error["error_code"]} #{error["message"]}".squeeze(" ") if error
    line += "  result: #{step.results.to_json}" if step.state == "complete" && step.results
    line
  end
end
