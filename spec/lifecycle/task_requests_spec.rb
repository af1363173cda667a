# frozen_string_literal: true

# `tasker_task_requests`: a task asked for by a message instead of a call (any process, any
# language, that can run pgmq.send). The orchestrator creates the task and deletes the
# request in one transaction; a request it cannot create is archived with the reason logged.
RSpec.describe "task requests through the tasker_task_requests queue", db: true do
  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "billing", "name" => "invoice", "version" => "1",
                                      "steps" => [{ "name" => "send", "handler" => "Billing::Send" }] }])
    with_pg { |conn| conn.exec("SELECT tasker.ensure_queue('tasker_task_requests')") }
  end

  after { stop_orchestrator! }

  def send_request(body)
    with_pg { |conn| conn.exec_params("SELECT pgmq.send('tasker_task_requests', $1::jsonb)", [body]) }
  end

  def tasks_with_key(key)
    with_pg do |conn|
      conn.exec_params("SELECT task_uuid, namespace, name, context::text FROM tasker.tasks " \
                       "WHERE idempotency_key = $1", [key]).to_a
    end
  end

  it "creates the task a request asks for, once, and deletes the request" do
    request = JSON.generate("namespace" => "billing", "name" => "invoice", "version" => "1",
                            "context" => { "invoice_id" => 7 }, "idempotency_key" => "invoice-7")
    send_request(request)
    send_request(request)
    start_orchestrator!
    wait_until(message: "the requests consumed") do
      queue_messages("tasker_task_requests").empty? && tasks_with_key("invoice-7").any?
    end
    tasks = tasks_with_key("invoice-7")
    expect(tasks.size).to eq(1)
    expect(tasks.first).to include("namespace" => "billing", "name" => "invoice")
    expect(JSON.parse(tasks.first["context"])).to eq("invoice_id" => 7)
    expect(queue_messages("billing_queue").size).to eq(1)
    expect(archived_messages("tasker_task_requests")).to be_empty
  end

  it "archives a request for an unknown template or a malformed one, and goes on" do
    send_request(JSON.generate("namespace" => "billing", "name" => "no_such_task", "version" => "1"))
    send_request(JSON.generate("namespace" => "billing", "unexpected" => true))
    send_request(JSON.generate("namespace" => "billing", "name" => "invoice", "version" => "1",
                               "idempotency_key" => "after-the-bad-ones"))
    start_orchestrator!
    wait_until(message: "the good request created") { tasks_with_key("after-the-bad-ones").any? }
    wait_until(message: "the bad requests archived") { archived_messages("tasker_task_requests").size == 2 }
    expect(queue_messages("tasker_task_requests")).to be_empty
  end
end
