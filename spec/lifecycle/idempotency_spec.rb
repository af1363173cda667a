# frozen_string_literal: true

RSpec.describe "idempotent task creation", db: true do
  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "billing", "name" => "invoice", "version" => "1",
                                      "steps" => [{ "name" => "send", "handler" => "Billing::Send" }] }])
  end

  def task_count
    with_pg { |conn| Integer(conn.exec("SELECT count(*) FROM tasker.tasks").getvalue(0, 0)) }
  end

  it "makes exactly one task when 50 threads race with one key" do
    gate = Queue.new
    threads = Array.new(50) do
      Thread.new do
        gate.pop
        TaskerCore.create_task(namespace: "billing", name: "invoice", idempotency_key: "order-42")
      end
    end
    50.times { gate << :go }
    tasks = threads.map(&:value)
    expect(tasks.map(&:uuid).uniq.size).to eq(1)
    expect(tasks.count(&:created?)).to eq(1)
    expect(task_count).to eq(1)
    expect(queue_messages("billing_queue").size).to eq(1)
  end

  it "makes a task per call without a key" do
    uuids = Array.new(3) { TaskerCore.create_task(namespace: "billing", name: "invoice").uuid }
    expect(uuids.uniq.size).to eq(3)
    expect(task_count).to eq(3)
  end
end
