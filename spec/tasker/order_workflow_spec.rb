# frozen_string_literal: true

require "spec_helper"
require_relative "support"

RSpec.describe "A Tasker-format order workflow with a JSON Schema" do
  before(:all) do
    TaskerTestDatabase.prepare!
    TaskerFixtureFiles.load_handlers
    start_orchestrator!
  end

  after(:all) { stop_orchestrator! }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!(TaskerFixtureFiles.template("process_order"))
  end

  let(:order) { { "customer_id" => 7, "items" => [{ "sku" => "A", "quantity" => 2, "price" => 10 }] } }

  def run_order(context, **options)
    task = TaskerCore.create_task(namespace: "tasker_orders", name: "process_order", context: context, **options)
    TaskerCore.wait_for_task(task.uuid, timeout: 30)
  end

  def task_count
    with_pg { |c| c.exec("SELECT count(*) FROM tasker.tasks").getvalue(0, 0).to_i }
  end

  it "refuses a context that breaks the schema, naming each JSON pointer and rule, and creates no task" do
    bad = { "customer_id" => "seven", "currency" => "GBP",
            "items" => [{ "sku" => "A", "quantity" => 0 }] }
    expect { TaskerCore.create_task(namespace: "tasker_orders", name: "process_order", context: bad) }
      .to raise_error(TaskerCore::ArgumentError) { |e|
        expect(e.message).to include("tasker_orders/process_order@2.1.0")
        expect(e.message).to include("/customer_id: ", "(type)")
        expect(e.message).to include("/currency: ", "(enum)")
        expect(e.message).to include("/items/0/quantity: ", "(minimum)")
        expect(e.message).to match(%r{/items/0: .*price.*\(required\)})
      }
    expect { TaskerCore.create_task(namespace: "tasker_orders", name: "process_order", context: {}) }
      .to raise_error(TaskerCore::ArgumentError, /\(root\): .*customer_id.*\(required\)/)
    expect(task_count).to eq(0)
  end

  it "refuses to register a schema that is not a JSON Schema" do
    template = YAML.safe_load_file(TaskerFixtureFiles.template("process_order"))
    template["schema"] = { "type" => "objekt" }
    expect { TaskerCore.register_templates!([template]) }
      .to raise_error(TaskerCore::TemplateError, /process_order@2\.1\.0.*context_schema is not a valid JSON Schema/)
    template["schema"] = { "type" => "string", "pattern" => "(unclosed" }
    expect { TaskerCore.register_templates!([template]) }.to raise_error(TaskerCore::TemplateError, /context_schema/)
  end

  it "runs a valid order: default_context and default_options fill what the request leaves out" do
    with_worker(namespaces: ["tasker_orders"]) do
      status = run_order(order)
      expect(status.state).to eq("complete"), -> { status.to_h.inspect }
      expect(status.context).to eq(order.merge("currency" => "USD"))
      expect(status.to_h).to include("initiator" => "tasker_fixture", "source_system" => "storefront",
                                     "tags" => ["orders"])
      expect(status.step("validate_order").results).to eq("valid" => true, "customer_id" => 7)
      expect(status.step("calculate_total").results).to eq("total" => 20, "currency" => "USD")
      expect(status.step("charge_payment").results).to eq("charged" => 20, "attempts" => 1)
      expect(status.to_h["steps"][2]["result_metadata"]).to eq("gateway" => "fixture")
      expect(status.step("send_confirmation").results).to eq("sent_to" => 7, "charged" => 20)
      explicit = run_order(order.merge("currency" => "EUR"), initiator: "me", tags: ["vip"])
      expect(explicit.to_h).to include("initiator" => "me", "source_system" => "storefront", "tags" => ["vip"])
      expect(explicit.context["currency"]).to eq("EUR")
    end
  end

  it "honors default_retry_limit and default_retryable, and maps it to max_attempts" do
    steps = TaskerCore.templates.first["template"]["steps"].to_h { |s| [s["name"], s["retry"]] }
    expect(steps).to eq("validate_order" => { "max_attempts" => 4, "retryable" => false },
                        "calculate_total" => { "max_attempts" => 4, "retryable" => true },
                        "charge_payment" => { "max_attempts" => 3, "retryable" => true },
                        "send_confirmation" => { "max_attempts" => 1, "retryable" => true })
    with_worker(namespaces: ["tasker_orders"]) do
      flaky = run_order(order.merge("customer_id" => 503))
      expect(flaky.state).to eq("complete")
      expect(flaky.step("charge_payment").attempts).to eq(3)
      expect(flaky.step("charge_payment").results).to eq("charged" => 20, "attempts" => 3)

      no_mail = run_order(order.merge("no_mail" => true))
      expect(no_mail.state).to eq("error")
      confirmation = no_mail.step("send_confirmation")
      expect([confirmation.state, confirmation.attempts]).to eq(["error", 1])
      expect(confirmation.last_error["class"]).to eq("TaskerCore::RetryableError")
    end
  end

  it "fails steps through TaskerCore::Errors and error call results, keeping the error's context" do
    with_worker(namespaces: ["tasker_orders"]) do
      banned = run_order(order.merge("items" => [{ "sku" => "BANNED", "quantity" => 1, "price" => 1 }]))
      step = banned.step("validate_order")
      expect([banned.state, step.state, step.attempts]).to eq(%w[error error] + [1])
      expect(step.last_error).to include("class" => "TaskerCore::Errors::ValidationError", "retryable" => false,
                                         "error_code" => "BANNED_SKU", "message" => "banned SKU BANNED",
                                         "context" => { "field" => "items" })

      declined = run_order(order.merge("items" => [{ "sku" => "A", "quantity" => 1, "price" => 666 }]))
      charge = declined.step("charge_payment")
      expect([charge.state, charge.attempts]).to eq(["error", 1])
      expect(charge.last_error).to include("class" => "PaymentDeclined", "message" => "card declined",
                                           "error_code" => "DECLINED", "retryable" => false,
                                           "context" => { "total" => 666 })
    end
  end

  it "keeps a retried error's context in the step's audit trail" do
    with_worker(namespaces: ["tasker_orders"]) do
      status = run_order(order.merge("customer_id" => 503))
      rows = with_pg do |c|
        c.exec_params("SELECT metadata -> 'error' FROM tasker.step_transitions t JOIN tasker.workflow_steps s " \
                      "USING (step_uuid) WHERE s.task_uuid = $1 AND s.name = 'charge_payment' " \
                      "AND t.to_state = 'waiting_for_retry' ORDER BY t.id", [status.uuid]).column_values(0)
      end
      errors = rows.map { |json| JSON.parse(json) }
      expect(errors.map { |e| [e["class"], e["context"]] })
        .to eq([["TaskerCore::Errors::NetworkError", { "attempt" => 1 }],
                ["TaskerCore::Errors::NetworkError", { "attempt" => 2 }]])
    end
  end
end
