# frozen_string_literal: true

# A native template's `context_schema`: the same check as the Tasker format's `schema`, on both
# ways a task is asked for (create_task and the tasker_task_requests queue).
RSpec.describe "context_schema of a native template", db: true do
  let(:template) do
    { "namespace" => "billing", "name" => "invoice", "version" => "1",
      "context_schema" => { "type" => "object", "required" => ["invoice_id"],
                            "properties" => { "invoice_id" => { "type" => "integer" },
                                              "lines" => { "type" => "array", "maxItems" => 2 } } },
      "default_context" => { "lines" => [] },
      "steps" => [{ "name" => "send", "handler" => "Billing::Send" }] }
  end

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([template])
  end

  after { stop_orchestrator! }

  def task_keys
    with_pg { |conn| conn.exec("SELECT idempotency_key FROM tasker.tasks ORDER BY idempotency_key").column_values(0) }
  end

  it "refuses a context that does not match, naming the pointers and rules, and accepts one that does" do
    expect { TaskerCore.create_task(namespace: "billing", name: "invoice", context: { "lines" => [1, 2, 3] }) }
      .to raise_error(TaskerCore::ArgumentError,
                      %r{billing/invoice@1 does not match the template's schema: .*/lines: .*\(maxItems\)})
    expect { TaskerCore.create_task(namespace: "billing", name: "invoice", context: { "invoice_id" => 1.5 }) }
      .to raise_error(TaskerCore::ArgumentError, %r{/invoice_id: 1.5 is not of type "integer" \(type\)})
    expect(task_keys).to be_empty
    task = TaskerCore.create_task(namespace: "billing", name: "invoice", context: { "invoice_id" => 2**64 },
                                  idempotency_key: "ok")
    expect(TaskerCore.task_status(task.uuid).context).to eq("invoice_id" => 2**64, "lines" => [])
  end

  it "archives a queued request whose context does not match, and creates the one that does" do
    with_pg do |conn|
      conn.exec("SELECT tasker.ensure_queue('tasker_task_requests')")
      [{ "lines" => [] }, { "invoice_id" => 3 }].each_with_index do |context, i|
        body = JSON.generate("namespace" => "billing", "name" => "invoice", "context" => context,
                             "idempotency_key" => "request-#{i}")
        conn.exec_params("SELECT pgmq.send('tasker_task_requests', $1::jsonb)", [body])
      end
    end
    start_orchestrator!
    wait_until(message: "the bad request archived") { archived_messages("tasker_task_requests").size == 1 }
    wait_until(message: "the good request created") { task_keys == ["request-1"] }
  end
end
