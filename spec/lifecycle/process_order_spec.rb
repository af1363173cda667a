# frozen_string_literal: true

require "time"

# The fulfillment/process_order example through every failure it can meet, against the real
# database, orchestrator and workers.
RSpec.describe "fulfillment/process_order", db: true do
  let(:order) { { "product_id" => "widget", "quantity" => 2 } }

  before(:all) { require File.expand_path("../../examples/handlers/fulfillment", __dir__) }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!(File.expand_path("../../examples/templates/fulfillment_process_order.yaml",
                                                    __dir__))
    start_orchestrator!
  end

  after { stop_orchestrator! }

  def run_order(context, timeout: 20)
    task = TaskerCore.create_task(namespace: "fulfillment", name: "process_order", version: "1.0.0",
                                  context: context)
    with_worker(namespaces: %w[fulfillment], concurrency: 2) do
      TaskerCore.wait_for_task(task.uuid, timeout: timeout)
    end
  end

  # When each attempt of a step was claimed by a worker, from the audit trail.
  def claim_times(step_uuid)
    with_pg do |conn|
      conn.exec_params(<<~SQL, [step_uuid]).map { |r| [Integer(r["attempt"]), Time.parse(r["created_at"])] }
        SELECT attempt, created_at FROM tasker.step_transitions
         WHERE step_uuid = $1 AND to_state = 'in_progress' ORDER BY id
      SQL
    end
  end

  it "ships a valid order" do
    status = run_order({ "order" => order })
    expect(status.state).to eq("complete")
    expect(status.steps.map(&:state)).to all(eq("complete"))
    expect(status.steps.map(&:attempts)).to all(eq(1))
    expect(status.step("process_payment").results["amount_cents"]).to eq(2_500)
    expect(status.step("ship_order").results["shipping_label"]).to match(/\AUPS-[0-9A-F-]{12}\z/)
    expect(status["completion_percentage"]).to eq(100.0)
  end

  it "ends in error on an unknown product, and nothing downstream runs" do
    status = run_order({ "order" => { "product_id" => "unicorn" } })
    expect(status.state).to eq("error")
    validate = status.step("validate_order")
    expect(validate.state).to eq("error")
    expect(validate.attempts).to eq(1)
    expect(validate.last_error).to include("class" => "TaskerCore::PermanentError", "error_code" => "PRODUCT_NOT_FOUND",
                                           "retryable" => false, "attempt" => 1)
    expect(validate.last_error["message"]).to include("unicorn")
    expect(validate.last_error["backtrace"]).to be_an(Array).and(be_any)
    %w[reserve_inventory process_payment ship_order].each do |name|
      expect(status.step(name)).to have_attributes(state: "pending", attempts: 0)
    end
  end

  it "ends in error when the card is declined, with ship_order never run" do
    status = run_order({ "order" => order, "simulate" => { "declined" => true } })
    expect(status.state).to eq("error")
    expect(status.step("process_payment")).to have_attributes(state: "error", attempts: 1)
    expect(status.step("process_payment").last_error["error_code"]).to eq("CARD_DECLINED")
    expect(status.step("ship_order")).to have_attributes(state: "pending", attempts: 0, started_at: nil)
    expect(status.step("reserve_inventory").state).to eq("complete")
  end

  it "retries short stock after the handler's retry_after and completes on the third attempt" do
    status = run_order({ "order" => order, "simulate" => { "short_stock_attempts" => 2, "retry_after" => 0.4 } })
    expect(status.state).to eq("complete")
    reserve = status.step("reserve_inventory")
    expect(reserve).to have_attributes(state: "complete", attempts: 3)
    times = claim_times(reserve["step_uuid"])
    expect(times.map(&:first)).to eq([1, 2, 3])
    gaps = times.each_cons(2).map { |(_, a), (_, b)| b - a }
    expect(gaps).to all(be >= 0.4)
    # On time: the worker wakes when the delayed message becomes visible, not at its next poll
    # (poll_interval is 1 s), so each retry starts well within a poll interval of its delay.
    expect(gaps).to all(be < 0.4 + 0.5)
    expect(reserve.last_error).to include("class" => "TaskerCore::RetryableError", "attempt" => 2)
  end

  it "gives up when retries run out" do
    status = run_order({ "order" => order, "simulate" => { "rate_limited_attempts" => 5, "retry_after" => 0.1 } })
    expect(status.state).to eq("error")
    payment = status.step("process_payment")
    expect(payment).to have_attributes(state: "error", attempts: 2, max_attempts: 2)
    expect(payment.last_error).to include("class" => "TaskerCore::RetryableError", "attempt" => 2)
    expect(status.step("ship_order").state).to eq("pending")
  end

  it "spaces exponential retries when the handler asks for no delay" do
    failing = Class.new(TaskerCore::StepHandler) do
      def call(_task, _sequence, step)
        raise "flaky dependency" if step.attempt < 3

        { "attempt" => step.attempt }
      end
    end
    stub_const("SpecFlaky", failing)
    TaskerCore.register_templates!([{ "namespace" => "fulfillment", "name" => "flaky", "version" => "1",
                                      "steps" => [{ "name" => "call_api", "handler" => "SpecFlaky",
                                                    "retry" => { "max_attempts" => 3,
                                                                 "backoff_base_seconds" => 0.2 } }] }])
    task = TaskerCore.create_task(namespace: "fulfillment", name: "flaky")
    status = with_worker(namespaces: %w[fulfillment]) { TaskerCore.wait_for_task(task.uuid, timeout: 20) }
    step = status.step("call_api")
    expect(step).to have_attributes(state: "complete", attempts: 3, results: { "attempt" => 3 })
    gaps = claim_times(step["step_uuid"]).each_cons(2).map { |(_, a), (_, b)| b - a }
    expect(gaps[0]).to be >= 0.2 * 0.9 # base * 2^0, minus 10% jitter
    expect(gaps[1]).to be >= 0.4 * 0.9 # base * 2^1, minus 10% jitter
    expect(step.last_error).to include("class" => "RuntimeError", "message" => "flaky dependency", "retryable" => true)
  end
end
