# frozen_string_literal: true

require "spec_helper"

# Handlers and helpers for these specs only.
module WakeupSpec
  NAMESPACE = "wakeup_spec"
  QUEUE = "wakeup_spec_queue"

  class Echo < TaskerCore::StepHandler
    def call(*)
      "echo"
    end
  end

  def self.template
    { "namespace" => NAMESPACE, "name" => "echo", "version" => "1.0.0",
      "steps" => [{ "name" => "only", "handler" => "WakeupSpec::Echo" }] }
  end

  # The worker's fetcher is inside a statement, waiting for a lock.
  def fetcher_waiting_for_lock?
    with_pg do |conn|
      conn.exec("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() " \
                "AND application_name = 'tasker-core worker fetcher' AND wait_event_type = 'Lock'").ntuples.positive?
    end
  end
end

# A worker that waits for notifications alone (poll_interval 30 s) must not miss one.
RSpec.describe TaskerCore::Worker, db: true do
  include WakeupSpec

  before(:all) do
    TaskerTestDatabase.prepare!
    start_orchestrator!
  end

  after(:all) { stop_orchestrator! }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([WakeupSpec.template])
  end

  # After a read that comes back short, the fetcher asks when the next delayed message is due
  # (tasker.next_visible_in), then waits on its connection's socket. A message committed while
  # that question runs, after its snapshot, is not in its answer; and PostgreSQL hands the
  # message's notification to the connection before the answer, so libpq takes it off the
  # socket with the answer. Here the question is held on a lock while the task is created.
  it "runs a task whose message was sent while the fetcher was between its read and its wait" do
    locker = PG.connect(TaskerTestDatabase.url, application_name: "tasker-core wakeup spec")
    with_worker(namespaces: [WakeupSpec::NAMESPACE], poll_interval: 30, logger: capturing_logger[0]) do
      locker.exec("BEGIN")
      locker.exec("LOCK TABLE pgmq.meta IN ACCESS EXCLUSIVE MODE")
      # A wake-up with nothing to read, as when another worker took the message first.
      channel = TaskerCore::Worker::QueueClient.channel(WakeupSpec::QUEUE)
      with_pg { |conn| conn.exec_params("SELECT pg_notify($1, '')", [channel]) }
      wait_until(message: "the fetcher to wait for the lock after its read") { fetcher_waiting_for_lock? }
      task = TaskerCore.create_task(namespace: WakeupSpec::NAMESPACE, name: "echo", version: "1.0.0")
      locker.exec("COMMIT")

      expect(TaskerCore.wait_for_task(task.uuid, timeout: 10).state).to eq("complete")
    end
  ensure
    locker&.close
  end
end
