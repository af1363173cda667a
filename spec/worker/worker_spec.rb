# frozen_string_literal: true

require "spec_helper"

# Handlers for these specs only; each shows the worker what a user's code might do.
module WorkerSpecHandlers
  class Echo < TaskerCore::StepHandler
    def call(task, _sequence, step)
      { "echo" => task.context["value"], "step" => step.name, "attempt" => step.attempt }
    end
  end

  class ReturnsTime < TaskerCore::StepHandler
    def call(*)
      { "at" => Time.at(0) }
    end
  end

  class ReturnsNul < TaskerCore::StepHandler
    def call(*)
      { "text" => "before\u0000after" }
    end
  end

  class FailsOnce < TaskerCore::StepHandler
    def call(_task, _sequence, step)
      raise TaskerCore::RetryableError.new("try again", retry_after: 0) if step.first_attempt?

      "second time lucky"
    end
  end

  class Slow < TaskerCore::StepHandler
    # One entry per call, pushed when the handler really runs (a job handed to the executor
    # pool is counted in_flight before an executor takes it).
    STARTED = Thread::Queue.new

    def call(task, _sequence, _step)
      STARTED << true
      sleep task.context.fetch("sleep", 0.5)
      "slept"
    end
  end
end

RSpec.describe TaskerCore::Worker, db: true do
  let(:namespace) { "worker_spec" }
  let(:queue) { "worker_spec_queue" }
  let(:logger_and_io) { capturing_logger }
  let(:logger) { logger_and_io[0] }
  let(:log) { logger_and_io[1] }

  def template(name, handler, **step)
    { "namespace" => namespace, "name" => name, "version" => "1.0.0",
      "steps" => [{ "name" => "only", "handler" => handler }.merge(step.transform_keys(&:to_s))] }
  end

  def create(name, context = {})
    TaskerCore.create_task(namespace: namespace, name: name, version: "1.0.0", context: context)
  end

  def step_uuid(task)
    with_pg do |conn|
      conn.exec_params("SELECT step_uuid FROM tasker.workflow_steps WHERE task_uuid = $1", [task.uuid]).getvalue(0, 0)
    end
  end

  def worker_options
    { namespaces: [namespace], concurrency: 2, logger: logger }
  end

  before(:all) do
    TaskerTestDatabase.prepare!
    start_orchestrator!
  end

  after(:all) { stop_orchestrator! }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([
                                     template("echo", "WorkerSpecHandlers::Echo"),
                                     template("unknown", "WorkerSpecHandlers::DoesNotExist"),
                                     template("time", "WorkerSpecHandlers::ReturnsTime"),
                                     template("nul", "WorkerSpecHandlers::ReturnsNul"),
                                     template("flaky", "WorkerSpecHandlers::FailsOnce", retry: { "max_attempts" => 2 }),
                                     template("slow", "WorkerSpecHandlers::Slow"),
                                     template("fragile", "WorkerSpecHandlers::Echo", retry: { "max_attempts" => 1 })
                                   ])
  end

  it "runs a step and reports its result" do
    with_worker(**worker_options) do |worker|
      status = TaskerCore.wait_for_task(create("echo", "value" => 2**70).uuid, timeout: 15)
      expect(status.state).to eq("complete")
      expect(status.step("only").results).to eq("echo" => 2**70, "step" => "only", "attempt" => 1)
      expect(worker.stats).to include(processed: 1, succeeded: 1, failed: 0)
    end
  end

  it "archives malformed and wrongly shaped messages, logs them, and keeps processing" do
    junk = send_raw_message(queue, '"just a string"')
    shapeless = send_raw_message(queue, '{"step_uuid": "not-a-uuid", "attempt": 1}')
    with_worker(**worker_options) do |worker|
      status = TaskerCore.wait_for_task(create("echo", "value" => 1).uuid, timeout: 15)
      expect(status.state).to eq("complete")
      wait_until(message: "both bad messages archived") { worker.stats[:archived] == 2 }
    end
    expect(archived_messages(queue).map { |row| Integer(row["msg_id"]) }).to contain_exactly(junk, shapeless)
    expect(queue_messages(queue)).to be_empty
    expect(log.string).to include("archived message msg_id=#{junk} of queue #{queue}",
                                  "archived message msg_id=#{shapeless} of queue #{queue}: not a step message")
  end

  it "archives a message whose text is not JSON at all" do
    msg_id = send_raw_message(queue, "{}")
    settings = TaskerCore::Worker::Settings.new(**worker_options, database_url: TaskerTestDatabase.url)
    connection = TaskerCore::Worker::Connection.new(settings, TaskerCore::Worker::Lifecycle.new, role: "spec")
    stats = TaskerCore::Worker::Stats.new
    processor = TaskerCore::Worker::MessageProcessor.new(
      client: TaskerCore::Worker::QueueClient.new(connection), runner: nil, builder: nil, stats: stats, logger: logger,
      watchdog: nil
    )
    processor.process(TaskerCore::Worker::Job.new(queue: queue, msg_id: msg_id, read_ct: 1, payload: "{not json"))
    connection.close
    expect(archived_messages(queue).map { |row| Integer(row["msg_id"]) }).to eq([msg_id])
    expect(log.string).to include("msg_id=#{msg_id} of queue #{queue}: malformed JSON")
  end

  it "fails the step of an unknown handler with a message naming it" do
    with_worker(**worker_options) do
      status = TaskerCore.wait_for_task(create("unknown").uuid, timeout: 15)
      expect(status.state).to eq("error")
      step = status.step("only")
      expect(step.state).to eq("error")
      expect(step.attempts).to eq(1)
      expect(step.last_error).to include("class" => "TaskerCore::UnknownHandlerError", "retryable" => false)
      expect(step.last_error["message"]).to include("WorkerSpecHandlers::DoesNotExist", "worker_spec/unknown")
    end
  end

  it "fails a step whose result is not JSON with SerializationError" do
    with_worker(**worker_options) do
      step = TaskerCore.wait_for_task(create("time").uuid, timeout: 15).step("only")
      expect(step.state).to eq("error")
      expect(step.last_error).to include("class" => "TaskerCore::SerializationError")
      expect(step.last_error["message"]).to include('"only"', "Time at $.at")
    end
  end

  it "fails a step whose result holds a NUL character, which jsonb cannot store" do
    with_worker(**worker_options) do |worker|
      step = TaskerCore.wait_for_task(create("nul").uuid, timeout: 15).step("only")
      expect(step.state).to eq("error")
      expect(step.last_error).to include("class" => "TaskerCore::SerializationError")
      expect(step.last_error["message"]).to include("String at $.text: contains a NUL character")
      expect(worker.stats).to include(errors: 0)
    end
  end

  it "retries a RetryableError and completes on the next attempt" do
    with_worker(**worker_options) do
      status = TaskerCore.wait_for_task(create("flaky").uuid, timeout: 20)
      expect(status.state).to eq("complete")
      expect(status.step("only").results).to eq("second time lucky")
      expect(status.step("only").attempts).to eq(2)
    end
  end

  it "deletes a stale message (its step already finished) without running anything" do
    with_worker(**worker_options) do |worker|
      task = create("echo", "value" => 1)
      expect(TaskerCore.wait_for_task(task.uuid, timeout: 15).state).to eq("complete")
      with_pg do |conn|
        conn.exec_params("SELECT tasker.send_step_messages(ARRAY[$1::uuid], 0)", [step_uuid(task)])
      end
      wait_until(message: "the stale message deleted") { worker.stats[:stale] == 1 }
      expect(worker.stats).to include(succeeded: 1, failed: 0, archived: 0)
    end
    expect(queue_messages(queue)).to be_empty
    expect(archived_messages(queue)).to be_empty
    expect(TaskerCore.task_status(create("echo").uuid).state).not_to eq("error")
  end

  it "reports AttemptsExhausted when a redelivered message finds every attempt used up" do
    task = create("fragile", "value" => 1)
    msg = wait_until(message: "the step message") { queue_messages(queue).first }
    with_pg do |conn|
      # A worker claims the step and dies: its message reappears with the attempt already spent.
      conn.exec_params("SELECT 1 FROM pgmq.read($1::text, 30, 1)", [queue])
      conn.exec_params("SELECT tasker.claim_step($1::uuid, 1)", [step_uuid(task)])
      conn.exec_params("SELECT 1 FROM pgmq.set_vt($1::text, $2::bigint, 0)", [queue, msg["msg_id"]])
    end
    with_worker(**worker_options) do
      step = TaskerCore.wait_for_task(task.uuid, timeout: 15).step("only")
      expect(step.state).to eq("error")
      expect(step.last_error).to include("class" => "TaskerCore::AttemptsExhausted", "retryable" => false)
      expect(step.last_error["message"]).to include("delivered 2 times", "every attempt was lost")
    end
  end

  it "replaces its watchdog thread if it dies, and says so" do
    with_worker(**worker_options) do |worker|
      watchdogs = -> { Thread.list.select { |thread| thread.name == "tasker-watchdog" && thread.alive? } }
      expect(watchdogs.call.size).to eq(1)
      watchdogs.call.first.kill.join
      expect(TaskerCore.wait_for_task(create("echo").uuid, timeout: 15).state).to eq("complete")
      expect(watchdogs.call.size).to eq(1)
      expect(worker.stats).to include(errors: 1, succeeded: 1)
      expect(log.string).to include("the watchdog thread died")
    end
  end

  it "wakes up on a new message at once instead of waiting for the poll interval" do
    with_worker(**worker_options, poll_interval: 30) do
      sleep 0.2 # let the fetcher settle into its wait
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      status = TaskerCore.wait_for_task(create("echo").uuid, timeout: 15)
      expect(status.state).to eq("complete")
      expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 5
    end
  end

  # Scans of the queue's table by every backend, as PostgreSQL counts them (a backend's
  # counts reach the statistics at the latest when it disconnects).
  def queue_scans
    with_pg do |conn|
      conn.exec("SELECT pg_stat_clear_snapshot()")
      row = conn.exec_params("SELECT COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0) AS scans " \
                             "FROM pg_stat_user_tables WHERE schemaname = 'pgmq' AND relname = $1", ["q_#{queue}"])
      Integer(row.getvalue(0, 0))
    end
  end

  it "does not read its queues while they are empty, and knows when nothing is delayed" do
    with_pg do |conn|
      expect(conn.exec_params("SELECT tasker.next_visible_in($1::text[])", ["{#{queue}}"]).getvalue(0, 0)).to be_nil
    end
    before = nil
    with_worker(**worker_options, poll_interval: 30) do
      expect(TaskerCore.wait_for_task(create("echo").uuid, timeout: 15).state).to eq("complete")
      sleep 0.3 # the last step's result submitted; the fetcher settles into its wait
      before = queue_scans
      sleep 1.5
    end
    sleep 0.3 # the worker's backends have exited and flushed their counts
    # A worker waiting for notifications reads nothing (what is counted here are the scans
    # of the finished task's statements, which backends report up to a second late, and any
    # other example's); one that polls an empty queue in a loop scans it thousands of times.
    expect(queue_scans - before).to be < 200
  end

  it "lets a running handler finish on stop and hands back what it had not started" do
    WorkerSpecHandlers::Slow::STARTED.clear
    worker = described_class.start(**worker_options, concurrency: 1)
    task = create("slow", "sleep" => 0.6)
    wait_until(message: "the slow handler to start") { !WorkerSpecHandlers::Slow::STARTED.empty? }
    expect(worker.stop(timeout: 10)).to be(true)
    expect(worker).not_to be_running
    expect(worker.stats).to include(succeeded: 1, in_flight: 0)
    expect(TaskerCore.wait_for_task(task.uuid, timeout: 10).state).to eq("complete")
  end

  it "cuts a handler short after the stop timeout and leaves its message to reappear" do
    WorkerSpecHandlers::Slow::STARTED.clear
    worker = described_class.start(**worker_options, concurrency: 1)
    task = create("slow", "sleep" => 5)
    wait_until(message: "the slow handler to start") { !WorkerSpecHandlers::Slow::STARTED.empty? }
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    expect(worker.stop(timeout: 0.3)).to be(false)
    expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 3
    expect(queue_messages(queue).size).to eq(1)
    expect(TaskerCore.task_status(task.uuid).step("only").state).to eq("in_progress")
  end

  it "survives its database connections being killed" do
    with_worker(**worker_options) do |worker|
      expect(TaskerCore.wait_for_task(create("echo").uuid, timeout: 15).state).to eq("complete")
      with_pg do |conn|
        conn.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity " \
                  "WHERE application_name LIKE 'tasker-core worker%' AND pid <> pg_backend_pid()")
      end
      status = TaskerCore.wait_for_task(create("echo", "value" => 7).uuid, timeout: 20)
      expect(status.state).to eq("complete")
      expect(status.step("only").results["echo"]).to eq(7)
      expect(worker).to be_running
    end
    expect(log.string).to include("connection").or include("terminat")
  end

  it "can be stopped from a signal handler, and wait returns once it has stopped" do
    worker = described_class.start(**worker_options)
    expect(worker.wait(0.1)).to be(false)
    previous = Signal.trap("USR2") { worker.stop(timeout: 5) }
    Process.kill("USR2", Process.pid)
    expect(worker.wait(10)).to be(true)
    expect(worker).to be_stopped
  ensure
    Signal.trap("USR2", previous || "DEFAULT")
    worker&.stop
  end

  it "creates the queue of a namespace nobody registered yet, with its insert notification" do
    fresh = "worker_spec_fresh"
    with_pg do |conn|
      conn.exec_params("SELECT pgmq.drop_queue(queue_name) FROM pgmq.meta WHERE queue_name = $1", ["#{fresh}_queue"])
    end
    with_worker(namespaces: [fresh], logger: logger) do |worker|
      expect(worker.queues).to eq(["#{fresh}_queue"])
      triggers = with_pg do |conn|
        conn.exec("SELECT tgname FROM pg_trigger WHERE tgrelid = 'pgmq.q_#{fresh}_queue'::regclass").column_values(0)
      end
      expect(triggers).to include("tasker_notify_insert")
    end
  end

  it "fails fast at start when the database cannot be reached, without leaking the password" do
    expect do
      described_class.start(namespaces: [namespace], database_url: "postgresql://u:hunter2@127.0.0.1:1/nope",
                            logger: logger)
    end.to raise_error(TaskerCore::DatabaseError) { |error| expect(error.message).not_to include("hunter2") }
  end
end
