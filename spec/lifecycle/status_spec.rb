# frozen_string_literal: true

class SpecAlwaysRetry < TaskerCore::StepHandler
  def call(_task, _sequence, _step)
    raise TaskerCore::RetryableError.new("try later", retry_after: 60)
  end
end

RSpec.describe "task_status", db: true do
  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "report", "name" => "daily", "version" => "2.1.0",
                                      "steps" => [{ "name" => "gather", "handler" => "SpecAlwaysRetry" },
                                                  { "name" => "publish", "handler" => "SpecAlwaysRetry",
                                                    "depends_on" => ["gather"],
                                                    "retry" => { "max_attempts" => 7 } }] }])
  end

  after { stop_orchestrator! }

  it "shows counts, completion, readiness and every step before anything runs" do
    task = TaskerCore.create_task(namespace: "report", name: "daily", context: { "day" => "2026-11-26" },
                                  initiator: "cron", source_system: "ops", reason: "nightly", tags: %w[a b])
    status = TaskerCore.task_status(task.uuid)
    expect(status).to have_attributes(state: "in_progress", version: "2.1.0", initiator: "cron", reason: "nightly",
                                      tags: %w[a b], context: { "day" => "2026-11-26" })
    expect(status["step_counts"]).to eq("enqueued" => 1, "pending" => 1)
    expect(status["completion_percentage"]).to eq(0)
    expect(status.step("gather")).to have_attributes(state: "enqueued", attempts: 0, max_attempts: 3, depends_on: [])
    expect(status.step("publish")).to have_attributes(state: "pending", ready: false, max_attempts: 7,
                                                      depends_on: ["gather"])
    expect(status.created_at).to be_within(60).of(Time.now)
    expect(status.finished?).to be(false)
  end

  it "shows the next retry time and the last error of a step waiting to retry" do
    start_orchestrator!
    task = TaskerCore.create_task(namespace: "report", name: "daily")
    with_worker(namespaces: %w[report]) do
      wait_until(message: "retry scheduled") do
        TaskerCore.task_status(task.uuid).step("gather").state == "waiting_for_retry"
      end
    end
    gather = TaskerCore.task_status(task.uuid).step("gather")
    expect(gather.attempts).to eq(1)
    expect(gather.next_retry_at).to be_within(5).of(Time.now + 60)
    expect(gather.last_error).to include("message" => "try later", "retry_after" => 60, "attempt" => 1)
    expect(gather.started_at).to be_a(Time)
  end
end
