# frozen_string_literal: true

require_relative "support/fault_report"

class SpecAsksForAges < TaskerCore::StepHandler
  def call(_task, _sequence, _step)
    raise TaskerCore::RetryableError.new("come back in 1e300 s", retry_after: 1e300)
  end
end

# Retry delays no timestamp can hold: registration caps the template's backoff at one day
# (86,400 s, like timeout_seconds), and whatever delay a handler or a step row asks for is
# clamped to max_backoff_seconds, so the failure is applied and the step waits for its retry.
RSpec.describe "huge backoff", db: true do
  one_day = 86_400

  def template(retry_policy, handler: "SpecAsksForAges")
    { "namespace" => "backoff", "name" => "ages", "version" => "1",
      "steps" => [{ "name" => "charge", "handler" => handler, "retry" => retry_policy }] }
  end

  before { reset_tasker_database! }

  it "refuses backoff settings over one day or not finite, naming template, step and rule" do
    up_to_one_day = /must be a positive number of seconds up to 86400 \(one day\)/
    refused = {
      { "backoff_base_seconds" => 1e300 } => /retry\.backoff_base_seconds #{up_to_one_day}, got 1e300/,
      { "max_backoff_seconds" => 1e308 } => /retry\.max_backoff_seconds #{up_to_one_day}, got 1e308/,
      { "max_backoff_seconds" => one_day + 1 } => /retry\.max_backoff_seconds must be .* got 86401/,
      { "max_backoff_seconds" => Float::INFINITY } => /Float at steps\[0\]\.retry\.max_backoff_seconds: Infinity/,
      { "backoff_base_seconds" => Float::NAN } => /Float at steps\[0\]\.retry\.backoff_base_seconds: NaN/
    }
    messages = refused.map do |policy, pattern|
      expected = %r{backoff/ages@1.*step "charge".*#{pattern.source}}
      expect { TaskerCore.register_templates!([template(policy)]) }
        .to raise_error(TaskerCore::TemplateError, expected) { |e| @last = e.message }
      @last
    end
    expect(TaskerCore.templates).to be_empty
    TaskerCore.register_templates!([template({ "backoff_base_seconds" => one_day, "max_backoff_seconds" => one_day })])
    expect(TaskerCore.templates.map { |t| t["name"] }).to eq(["ages"])
    FaultReport.record(name: "Backoff settings over one day",
                       how: "backoff_base_seconds 1e300, max_backoff_seconds 1e308, 86401, Infinity, NaN: " \
                            "each refused at registration",
                       tasks: 0, completed: 0, duplicates: 0, lost: 0)
    expect(messages.first).to include("got 1e300")
  end

  it "applies a retry_after of 1e300 s: the step waits for its retry, at most max_backoff_seconds" do
    TaskerCore.register_templates!([template({ "max_attempts" => 3 })])
    start_orchestrator!
    task = TaskerCore.create_task(namespace: "backoff", name: "ages")
    # A step row from before registration capped max_backoff_seconds (or one that some other
    # path filled): the delay is clamped to one day all the same.
    with_pg do |c|
      c.exec_params("UPDATE tasker.workflow_steps SET max_backoff_seconds = 1e308 WHERE task_uuid = $1", [task.uuid])
    end
    step = with_worker(namespaces: %w[backoff]) do
      wait_until(timeout: 20, message: "the failure to be applied") do
        current = TaskerCore.task_status(task.uuid).step("charge")
        current if current.state == "waiting_for_retry"
      end
    end
    wait_seconds = with_pg do |c|
      c.exec_params("SELECT extract(epoch FROM backoff_until - clock_timestamp())::float8 FROM tasker.workflow_steps
                      WHERE task_uuid = $1", [task.uuid]).getvalue(0, 0).to_f
    end
    expect(step).to have_attributes(attempts: 1)
    expect(step.last_error).to include("message" => "come back in 1e300 s")
    expect(step.last_error["retry_after"].to_f).to eq(1e300)
    expect(wait_seconds).to be_within(60).of(one_day)
    FaultReport.record(name: "Handler retry_after of 1e300 s",
                       how: "RetryableError(retry_after: 1e300) on a step whose row allows 1e308 s: the step goes to " \
                            "waiting_for_retry for #{wait_seconds.round} s",
                       tasks: 1, completed: 0, duplicates: 0, lost: 0)
  ensure
    stop_orchestrator!
  end
end
