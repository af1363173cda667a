# frozen_string_literal: true

require "pg"

# create_task(..., connection:): the task request written with the caller's PG::Connection,
# inside its open transaction; the orchestrator creates the task under the uuid the caller
# got back, once (and only if) that transaction commits.
module TransactionalCreateSpec
  # Succeeds only if the order row the task was created with is visible to another
  # connection: the handler never runs before the caller's transaction commits.
  class Invoice < TaskerCore::StepHandler
    def call(task, _sequence, _step)
      order_id = task.context.fetch("order_id")
      conn = PG.connect(TaskerTestDatabase.url)
      found = conn.exec_params("SELECT count(*) FROM tx_spec_orders WHERE id = $1", [order_id]).getvalue(0, 0)
      { "order_visible" => Integer(found) == 1 }
    ensure
      conn&.close
    end
  end
end

RSpec.describe "create_task inside the caller's transaction", db: true do
  let(:conn) { PG.connect(TaskerTestDatabase.url, application_name: "tasker-core spec app") }

  before do
    reset_tasker_database!
    with_pg do |pg|
      pg.exec("DO $$ BEGIN IF to_regclass('tx_spec_orders') IS NULL THEN " \
              "CREATE TABLE tx_spec_orders (id integer PRIMARY KEY); END IF; END $$")
      pg.exec("TRUNCATE tx_spec_orders")
    end
    TaskerCore.register_templates!([{ "namespace" => "billing", "name" => "invoice", "version" => "1",
                                      "steps" => [{ "name" => "send",
                                                    "handler" => "TransactionalCreateSpec::Invoice" }] }])
  end

  after do
    stop_orchestrator!
    conn.close unless conn.finished?
  end

  # The app's transaction: an order row and its task, committed or rolled back together.
  def place_order(order_id, commit:, **options)
    conn.exec("BEGIN")
    conn.exec_params("INSERT INTO tx_spec_orders (id) VALUES ($1)", [order_id])
    task = TaskerCore.create_task(namespace: "billing", name: options.fetch(:name, "invoice"), version: "1",
                                  context: { "order_id" => order_id }, connection: conn,
                                  **options.except(:name))
    yield task if block_given?
    conn.exec(commit ? "COMMIT" : "ROLLBACK")
    task
  end

  def task_rows
    with_pg { |pg| pg.exec("SELECT task_uuid FROM tasker.tasks").column_values(0) }
  end

  it "answers at once with a v7 uuid that becomes the task once the transaction commits, and the task runs" do
    task = place_order(1, commit: true) do |pending|
      # Not committed yet: nobody else sees the request.
      expect { TaskerCore.task_status(pending.uuid) }.to raise_error(TaskerCore::NotFoundError)
    end
    expect(task.uuid).to match(/\A\h{8}-\h{4}-7\h{3}-[89ab]\h{3}-\h{12}\z/)
    expect(task.state).to eq("pending")

    # Committed, not yet turned into a task (no orchestrator runs): a pending task, not NotFound.
    pending = TaskerCore.task_status(task.uuid)
    expect(pending.state).to eq("pending")
    expect(pending["request"]).to eq("queued")
    expect(pending.to_h).to include("namespace" => "billing", "name" => "invoice", "context" => { "order_id" => 1 })
    expect(task_rows).to be_empty
    expect { TaskerCore.wait_for_task(task.uuid, timeout: 0.2) }
      .to raise_error(TaskerCore::TimeoutError, /still pending/)

    start_orchestrator!
    status = with_worker(namespaces: %w[billing]) { TaskerCore.wait_for_task(task.uuid, timeout: 20) }
    expect(status.state).to eq("complete")
    expect(status.uuid).to eq(task.uuid)
    expect(status.step("send").results).to eq("order_visible" => true)
    expect(task_rows).to eq([task.uuid])
    expect(queue_messages("tasker_task_requests")).to be_empty
  end

  it "leaves no trace when the transaction rolls back" do
    rolled_back = place_order(1, commit: false)
    committed = place_order(2, commit: true)
    start_orchestrator!
    wait_until(message: "the committed request turned into a task") { task_rows.include?(committed.uuid) }

    expect(task_rows).to eq([committed.uuid])
    expect { TaskerCore.task_status(rolled_back.uuid) }.to raise_error(TaskerCore::NotFoundError)
    expect(queue_messages("tasker_task_requests")).to be_empty
    expect(archived_messages("tasker_task_requests")).to be_empty
    expect(with_pg { |pg| pg.exec("SELECT id FROM tx_spec_orders").column_values(0) }).to eq(["2"])
  end

  it "reports a request the orchestrator cannot create as a task in error saying why" do
    task = place_order(1, commit: true, name: "no_such_task")
    start_orchestrator!
    status = TaskerCore.wait_for_task(task.uuid, timeout: 10)

    expect(status.state).to eq("error")
    expect(status["request"]).to eq("rejected")
    expect(status["error"]).to match(%r{no template registered for billing/no_such_task@1})
    expect(status.steps).to be_empty
    expect(TaskerCore.task_status(task.uuid)).to eq(status)
    expect(task_rows).to be_empty
    expect(archived_messages("tasker_task_requests").size).to eq(1)
  end

  it "rejects, visibly, a request whose idempotency key already names another task" do
    first = TaskerCore.create_task(namespace: "billing", name: "invoice", version: "1", idempotency_key: "order-1")
    task = place_order(1, commit: true, idempotency_key: "order-1")
    start_orchestrator!
    status = TaskerCore.wait_for_task(task.uuid, timeout: 10)

    expect(status.state).to eq("error")
    expect(status["error"]).to include("idempotency_key \"order-1\" already names task #{first.uuid}")
    expect(task_rows).to eq([first.uuid])
  end

  it "creates the task once when the same request arrives twice" do
    uuid = TaskerCore::Internal::Client.new_task_uuid
    body = JSON.generate("namespace" => "billing", "name" => "invoice", "version" => "1",
                         "context" => { "order_id" => 3 })
    2.times { with_pg { |pg| pg.exec_params("SELECT tasker.request_task($1::uuid, $2::jsonb)", [uuid, body]) } }
    start_orchestrator!
    wait_until(message: "both requests consumed") { queue_messages("tasker_task_requests").empty? }

    expect(task_rows).to eq([uuid])
    expect(archived_messages("tasker_task_requests")).to be_empty
    expect(TaskerCore.task_status(uuid).state).to eq("in_progress")
  end

  it "refuses a connection that is not a usable PG::Connection, naming it" do
    create = ->(connection) { TaskerCore.create_task(namespace: "billing", name: "invoice", connection: connection) }
    expect { create.call("postgres://x") }
      .to raise_error(TaskerCore::ArgumentError, /connection must be a PG::Connection.*got String/)
    conn.exec("BEGIN")
    expect { conn.exec("SELECT 1/0") }.to raise_error(PG::DivisionByZero)
    expect { create.call(conn) }.to raise_error(TaskerCore::ArgumentError, /transaction has failed/)
    conn.exec("ROLLBACK")
    conn.close
    expect { create.call(conn) }.to raise_error(TaskerCore::ArgumentError, /connection is closed/)
  end
end
