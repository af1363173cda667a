# frozen_string_literal: true

# The part of the demo that shows dynamic workflows: an approval routed by amount (a
# decision: the branch not chosen is skipped) and a CSV-like list of rows summed chunk by
# chunk (a fan_out: one step instance per chunk).
class DynamicDemo
  NAMESPACES = %w[approvals csv].freeze
  ROWS = (1..1000).to_a.freeze

  # Returns how many cases did not end as expected.
  def run
    puts "\n== dynamic workflows: a decision and a fan_out"
    failures = [120, 900].count { |amount| !approval(amount) }
    failures + (csv ? 0 : 1)
  end

  private

  def approval(amount)
    status = run_task("approvals", "route_by_amount", { "amount" => amount })
    states = status.steps.map { |step| "#{step.name} #{step.state}" }.join(", ")
    record = status.step("record")&.results
    puts "approval of #{amount}: task #{status.state}; #{states}; record=#{record.inspect}"
    want = amount > 500 ? "manager_review" : "auto_approve"
    status.state == "complete" && record && record["decided_by"] == [want]
  end

  def csv
    status = run_task("csv", "sum_chunks", { "rows" => ROWS })
    instances = status.steps.count { |step| step["element_of"] == "sum_chunk" }
    total = status.step("total")&.results
    puts "csv of #{ROWS.size} rows: task #{status.state}; #{instances} sum_chunk instances; total=#{total.inspect} " \
         "(expected #{ROWS.sum}) in #{status["duration_ms"].round(1)} ms"
    status.state == "complete" && total && total["total"] == ROWS.sum
  end

  def run_task(namespace, name, context)
    task = TaskerCore.create_task(namespace: namespace, name: name, version: "1.0.0", context: context,
                                  initiator: "examples/demo.rb", reason: "demo")
    TaskerCore.wait_for_task(task.uuid, timeout: 60)
  end
end
