# frozen_string_literal: true

require "logger"
require "stringio"
require_relative "support/faults"

# Handlers that do what careless code does, run by a real worker in this process.
module WorkerFaultHandlers
  # Counts what the handlers did, across threads.
  module Journal
    @mutex = Mutex.new
    @entries = []

    def self.add(**entry)
      @mutex.synchronize { @entries << entry.merge(at: Process.clock_gettime(Process::CLOCK_MONOTONIC)) }
    end

    def self.entries(**filter)
      @mutex.synchronize { @entries.select { |entry| filter.all? { |key, value| entry[key] == value } } }
    end

    def self.clear
      @mutex.synchronize { @entries.clear }
    end
  end

  # On its first attempt, ends the way the task's context says; then succeeds.
  class Misbehaves < TaskerCore::StepHandler
    WAYS = {
      "interrupt" => -> { raise Interrupt },
      "signal" => -> { raise SignalException, "TERM" },
      "no_memory" => -> { raise NoMemoryError, "pretend" },
      "exception" => -> { raise Exception, "plain Exception" }, # rubocop:disable Lint/RaiseException
      "huge_allocation" => -> { "x" * (2**40) },
      "thread_kill" => -> { Thread.current.kill },
      "thread_exit" => -> { Thread.exit }
    }.freeze

    def call(task, _sequence, step)
      WAYS.fetch(task.context.fetch("way")).call if step.first_attempt?
      { "attempt" => step.attempt }
    end
  end

  # Sleeps past its timeout on the first attempt only.
  class SlowFirst < TaskerCore::StepHandler
    def call(task, _sequence, step)
      Journal.add(event: :start, attempt: step.attempt)
      sleep task.context.fetch("sleep") if step.first_attempt?
      Journal.add(event: :return, attempt: step.attempt)
      { "attempt" => step.attempt }
    end
  end

  class Sleeps < TaskerCore::StepHandler
    def call(task, _sequence, _step)
      sleep task.context.fetch("sleep")
      "slept"
    end
  end

  # A value exactly as deep as results may be.
  class Deep < TaskerCore::StepHandler
    def call(*)
      TaskerCore::Worker::JsonValue::MAX_DEPTH.times.reduce("bottom") { |inner, _| [inner] }
    end
  end

  # Reads its parent's deep result.
  class MeasuresDepth < TaskerCore::StepHandler
    def call(_task, sequence, _step)
      depth = 0
      value = sequence.get("deep")
      (depth += 1) && (value = value.first) while value.is_a?(Array)
      depth
    end
  end

  class NulError < TaskerCore::StepHandler
    def call(*)
      raise RuntimeError, "bad\u0000news", ["handler.rb:1:in `call\u0000'"]
    end
  end

  # An Integer is any JSON number to Ruby; jsonb's numeric refuses this one.
  class HugeNumber < TaskerCore::StepHandler
    def call(_task, _sequence, step)
      Journal.add(event: :huge_number, attempt: step.attempt)
      10**200_000
    end
  end

  # Any constant may be named as a handler; this class's `new` must never run.
  class NotAHandler
    def initialize
      Journal.add(event: :not_a_handler_new)
    end
  end
end

RSpec.describe "worker against misbehaving handlers", :fault do
  let(:namespace) { "worker_faults" }
  let(:log) { StringIO.new }
  let(:logger) { Logger.new(log).tap { |l| l.level = Logger::INFO } }

  def template(name, handler, steps: nil, **step)
    one = { "name" => "only", "handler" => handler }.merge(step.transform_keys(&:to_s))
    { "namespace" => namespace, "name" => name, "version" => "1", "steps" => steps || [one] }
  end

  def create(name, context = {})
    TaskerCore.create_task(namespace: namespace, name: name, version: "1", context: context).uuid
  end

  def start_worker(concurrency)
    @worker = TaskerCore::Worker.start(namespaces: [namespace], concurrency: concurrency, logger: logger,
                                       database_url: FaultCluster.url, poll_interval: 0.25)
  end

  def record(name, how, tasks:, completed:, failed_as_meant: 0)
    FaultReport.record(name: name, how: how, tasks: tasks, completed: completed, duplicates: 0,
                       lost: tasks - completed - failed_as_meant)
  end

  around do |example|
    with_fault_database do
      WorkerFaultHandlers::Journal.clear
      TaskerCore::Orchestrator.start
      example.run
    ensure
      @worker&.stop(timeout: 10)
    end
  end

  it "fails the attempt of a handler that raises any Exception or kills its thread, and keeps every executor" do
    retry_twice = { "max_attempts" => 2, "backoff_base_seconds" => 0.1 }
    TaskerCore.register_templates!([template("misbehaves", "WorkerFaultHandlers::Misbehaves", retry: retry_twice)])
    start_worker(1)
    ways = WorkerFaultHandlers::Misbehaves::WAYS.keys
    uuids = ways.to_h { |way| [way, create("misbehaves", "way" => way)] }
    statuses = uuids.transform_values { |uuid| TaskerCore.wait_for_task(uuid, timeout: 30) }

    statuses.each do |way, status|
      step = status.step("only")
      expect([way, status.state, step.results]).to eq([way, "complete", { "attempt" => 2 }])
      expect(step.last_error).to include("attempt" => 1, "retryable" => true)
    end
    expect(statuses.transform_values { |s| s.step("only").last_error["class"] }).to eq(
      "interrupt" => "Interrupt", "signal" => "SignalException", "no_memory" => "NoMemoryError",
      "exception" => "Exception", "huge_allocation" => "NoMemoryError",
      "thread_kill" => "TaskerCore::HandlerAborted", "thread_exit" => "TaskerCore::HandlerAborted"
    )
    expect(@worker.stats).to include(succeeded: ways.size, failed: ways.size, errors: 2, in_flight: 0)
    expect(log.string.scan("executor 1 died").size).to eq(2)
    expect(@worker.stop(timeout: 10)).to be(true)
    record("Handler raises Interrupt, SignalException, NoMemoryError (also from one 1 TB allocation) or " \
           "Exception, or kills its thread", "7 tasks, one worker with concurrency 1: each first attempt fails " \
                                             "(retryable), the second completes; 2 dead executor threads replaced",
           tasks: ways.size, completed: statuses.count { |_, s| s.complete? })
  end

  it "reports an attempt past timeout_seconds as failed, ignores its late result and keeps its slot" do
    TaskerCore.register_templates!([template("slow_first", "WorkerFaultHandlers::SlowFirst",
                                             timeout_seconds: 2, retry: { "max_attempts" => 3 })])
    start_worker(1)
    status = TaskerCore.wait_for_task(create("slow_first", "sleep" => 5), timeout: 30)

    step = status.step("only")
    expect([status.state, step.results, step.attempts]).to eq(["complete", { "attempt" => 2 }, 2])
    expect(step.last_error).to include("class" => "TaskerCore::TimeoutError", "attempt" => 1, "retryable" => true)
    expect(step.last_error["message"]).to start_with("attempt 1 ran past timeout_seconds = 2 s")
    journal = WorkerFaultHandlers::Journal
    first_return = journal.entries(event: :return, attempt: 1).first
    second_start = journal.entries(event: :start, attempt: 2).first
    expect(second_start[:at]).to be >= first_return[:at] # one executor: the overrunning handler kept it
    expect(@worker.stats).to include(timed_out: 1, failed: 1, succeeded: 1, errors: 0)
    expect(log.string).to include("attempt 1 returned a result after", "this late outcome is ignored")
    record("Handler runs past timeout_seconds (2 s; the handler takes 5 s on its first attempt)",
           "attempt 1 reported failed with TaskerCore::TimeoutError at 2 s, its late result ignored; " \
           "attempt 2 completes the step", tasks: 1, completed: status.complete? ? 1 : 0)
  end

  it "keeps a running attempt's message hidden with a heartbeat" do
    TaskerCore.register_templates!([template("sleeps", "WorkerFaultHandlers::Sleeps", timeout_seconds: 3)])
    start_worker(1)
    uuid = create("sleeps", "sleep" => 2.5)
    hidden_for = lambda do
      row = fault_sql("SELECT extract(epoch FROM vt - last_read_at) AS hidden FROM pgmq.q_worker_faults_queue").first
      row && row["hidden"].to_f
    end
    Timeout.timeout(10) { sleep 0.05 until hidden_for.call }
    # The read hid it for 3 s; the first heartbeat, a third of timeout_seconds later, for 3 s
    # from then. Watched until the handler (2.5 s) is about to return.
    watch_until = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 2
    sleep 0.05 until hidden_for.call > 3.5 || Process.clock_gettime(Process::CLOCK_MONOTONIC) > watch_until
    expect(hidden_for.call).to be > 3.5
    expect(TaskerCore.wait_for_task(uuid, timeout: 15).state).to eq("complete")
  end

  it "carries a result as deep as allowed to the dependent steps" do
    steps = [{ "name" => "deep", "handler" => "WorkerFaultHandlers::Deep", "timeout_seconds" => 1,
               "retry" => { "max_attempts" => 2 } },
             { "name" => "measure", "handler" => "WorkerFaultHandlers::MeasuresDepth", "depends_on" => ["deep"],
               "timeout_seconds" => 1, "retry" => { "max_attempts" => 2 } }]
    TaskerCore.register_templates!([template("deep", nil, steps: steps)])
    start_worker(2)
    status = TaskerCore.wait_for_task(create("deep"), timeout: 30)
    expect([status.state, status.step("measure").results]).to eq(["complete", TaskerCore::Worker::JsonValue::MAX_DEPTH])
    expect(@worker.stats).to include(errors: 0)
    record("Handler result exactly 100 levels deep, read by a dependent step", "both steps complete",
           tasks: 1, completed: status.complete? ? 1 : 0)
  end

  it "escapes NUL characters in an error's message and backtrace" do
    TaskerCore.register_templates!([template("nul_error", "WorkerFaultHandlers::NulError",
                                             timeout_seconds: 1, retry: { "max_attempts" => 1 })])
    start_worker(1)
    step = TaskerCore.wait_for_task(create("nul_error"), timeout: 30).step("only")
    expect(step.state).to eq("error")
    expect(step.last_error).to include("class" => "RuntimeError", "message" => "bad\\u0000news",
                                       "backtrace" => ["handler.rb:1:in `call\\u0000'"])
    expect(@worker.stats).to include(errors: 0)
    record("Handler error with NUL in its message and backtrace", "the step fails with the error, NUL shown as " \
                                                                  "\\u0000", tasks: 1, completed: 0, failed_as_meant: 1)
  end

  it "fails a step once, permanently, when the database refuses its result" do
    TaskerCore.register_templates!([template("huge_number", "WorkerFaultHandlers::HugeNumber",
                                             timeout_seconds: 1, retry: { "max_attempts" => 3 })])
    start_worker(1)
    step = TaskerCore.wait_for_task(create("huge_number"), timeout: 30).step("only")
    expect([step.state, step.attempts]).to eq(["error", 1])
    expect(step.last_error).to include("class" => "TaskerCore::ResultRefused", "retryable" => false)
    expect(step.last_error["message"]).to include("value overflows numeric format")
    expect(WorkerFaultHandlers::Journal.entries(event: :huge_number).size).to eq(1)
    record("Result the database refuses (an Integer of 200,001 digits)",
           "the step fails once with TaskerCore::ResultRefused and the database's reason; the handler ran once",
           tasks: 1, completed: 0, failed_as_meant: 1)
  end

  it "never calls new on a class that is not a handler" do
    handlers = %w[File Thread PG::Connection WorkerFaultHandlers::NotAHandler]
    retry_twice = { "max_attempts" => 2, "backoff_base_seconds" => 0.1 }
    TaskerCore.register_templates!(handlers.each_with_index.map do |handler, index|
      template("not_handler_#{index}", handler, retry: retry_twice)
    end)
    start_worker(2)
    steps = handlers.each_index.map do |index|
      TaskerCore.wait_for_task(create("not_handler_#{index}"), timeout: 30).step("only")
    end
    steps.zip(handlers).each do |step, handler|
      expect([step.state, step.attempts, step.last_error["class"]])
        .to eq(["error", 1, "TaskerCore::InvalidHandlerError"])
      expect(step.last_error["message"]).to include("handler #{handler} ", "is a class that is not a step handler")
    end
    expect(WorkerFaultHandlers::Journal.entries(event: :not_a_handler_new)).to be_empty
    record("Template names File, Thread, PG::Connection or another non-handler class as a handler",
           "each step fails once with TaskerCore::InvalidHandlerError; no instance is made",
           tasks: handlers.size, completed: 0, failed_as_meant: handlers.size)
  end
end
