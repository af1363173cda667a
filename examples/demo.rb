#!/usr/bin/env ruby
# frozen_string_literal: true

# The tasker-core demo: runs the four example workflows once each, the shop's
# fulfillment/process_order through success and failure, three workflows written in the
# Tasker format with Tasker-style handlers, an approval routed by a decision step and rows
# summed by a fan_out step, then a batch of each shape, with
# the orchestrator and a worker in this one process.
#
#   bin/db start
#   DATABASE_URL=postgresql://postgres@127.0.0.1:54329/tasker_development \
#     ruby -Ilib examples/demo.rb [--tasks N] [--concurrency N]
#
# Exits 0 when every step of every task returned the expected value, 1 otherwise.

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "optparse"
require "logger"
require "tasker_core"
require_relative "expected_results"
require_relative "fulfillment_demo"
require_relative "tasker_demo"
require_relative "dynamic_demo"

# Runs the demo and reports on stdout; #run returns the process exit status.
class Demo
  TERMINAL = %w[complete error cancelled resolved_manually].freeze

  def initialize(argv)
    @batch = 25
    @concurrency = 4
    @timeout = 300
    parse(argv)
    @failures = 0
  end

  def run
    setup
    @orchestrator = TaskerCore::Orchestrator.start
    @worker = TaskerCore::Worker.start(namespaces: Examples::WORKFLOWS.keys + ["fulfillment", TaskerDemo::NAMESPACE] +
                                                   DynamicDemo::NAMESPACES,
                                       concurrency: @concurrency)
    puts "tasker-core demo: database #{TaskerCore.configuration.redacted_database_url}, " \
         "worker concurrency #{@concurrency}"
    run_examples
    @failures += FulfillmentDemo.new.run
    @failures += TaskerDemo.new.run
    @failures += DynamicDemo.new.run
    run_batch
    summary
  ensure
    shutdown
  end

  private

  def parse(argv)
    OptionParser.new do |opts|
      opts.banner = "usage: ruby -Ilib examples/demo.rb [options]"
      opts.on("--tasks N", Integer, "tasks of each shape in the batch (default #{@batch})") { |n| @batch = n }
      opts.on("--concurrency N", Integer, "worker threads (default #{@concurrency})") { |n| @concurrency = n }
      opts.on("--timeout SECONDS", Integer, "give up on the batch after (default #{@timeout})") { |n| @timeout = n }
    end.parse!(argv)
    abort "--tasks must be at least 0" if @batch.negative?
    abort "--concurrency must be at least 1" unless @concurrency.positive?
  end

  def setup
    TaskerCore.configure do |config|
      config.database_url = ENV.fetch("DATABASE_URL", config.database_url)
      config.template_paths = Examples.template_paths
      config.logger.level = ENV.fetch("DEMO_LOG_LEVEL", "warn").upcase
    end
    TaskerCore.migrate!
    Examples.load_handlers
    TaskerCore.register_templates!(Examples.template_paths)
    TaskerCore.register_templates!(File.join(Examples::TEMPLATE_DIR, "fulfillment_process_order.yaml"))
    TaskerDemo.load_handlers
    TaskerCore.register_templates!(TaskerDemo.template_paths)
  end

  def run_examples
    puts "\n== the four examples"
    Examples::WORKFLOWS.each do |namespace, (name, _file, even_number)|
      started = now
      task = create(namespace, name, even_number)
      status = TaskerCore.wait_for_task(task.uuid, timeout: 60)
      elapsed = now - started
      report_example(namespace, name, even_number, status, elapsed)
    end
  end

  def report_example(namespace, name, even_number, status, elapsed)
    final = Examples.final_step(namespace)
    expected = Examples.expected_results(namespace, even_number)
    got = status.step(final)&.results
    ok = correct?(status, expected)
    @failures += 1 unless ok
    puts format("%<name>-10s even_number=%<n>-2d %<state>-8s %<final>s=%<got>s expected %<want>s %<verdict>s  " \
                "%<ms>7.1f ms", name: name, n: even_number, state: status.state, final: final, got: got.inspect,
                                want: expected[final], verdict: ok ? "OK" : "WRONG", ms: elapsed * 1000)
    print_steps(status, expected) unless ok
  end

  def print_steps(status, expected)
    status.steps.each do |step|
      puts "    #{step.name}: #{step.state} results=#{step.results.inspect} expected=#{expected[step.name]} " \
           "last_error=#{step.last_error.inspect}"
    end
  end

  def run_batch
    return if @batch.zero?

    total = @batch * Examples::WORKFLOWS.size
    puts "\n== batch: #{@batch} of each shape (#{total} tasks)"
    started = now
    tasks = create_batch
    created = now
    statuses = wait_all(tasks, started)
    finished = now
    check_batch(tasks, statuses)
    report_batch(tasks, statuses, started, created, finished)
  end

  def create_batch
    @batch.times.flat_map do |index|
      Examples::WORKFLOWS.map do |namespace, (name, _file, even_number)|
        [create(namespace, name, even_number, "batch #{index}"), namespace, even_number]
      end
    end
  end

  def wait_all(tasks, started)
    pending = tasks.map { |task, _, _| task.uuid }
    statuses = {}
    until pending.empty?
      raise TaskerCore::TimeoutError, "batch not finished after #{@timeout} s" if now - started > @timeout

      pending.reject! do |uuid|
        status = TaskerCore.task_status(uuid)
        TERMINAL.include?(status.state) && (statuses[uuid] = status)
      end
      progress(tasks.size - pending.size, tasks.size, started)
      sleep 0.05 unless pending.empty?
    end
    puts
    statuses
  end

  def progress(done, total, started)
    rate = done / [now - started, 1e-6].max
    print format("\r  %<done>d/%<total>d tasks done (%<rate>.0f tasks/s)", done: done, total: total, rate: rate)
    $stdout.flush
  end

  def check_batch(tasks, statuses)
    wrong = tasks.reject do |task, namespace, even_number|
      correct?(statuses.fetch(task.uuid), Examples.expected_results(namespace, even_number))
    end
    @failures += wrong.size
    wrong.first(5).each do |task, namespace, _|
      status = statuses.fetch(task.uuid)
      puts "  WRONG #{namespace} #{task.uuid}: #{status.state} " \
           "#{status.steps.map { |step| [step.name, step.state, step.results] }.inspect}"
    end
    puts "  #{tasks.size - wrong.size}/#{tasks.size} tasks returned the expected value at every step"
  end

  def report_batch(tasks, statuses, started, created, finished)
    steps = statuses.values.sum { |status| status.steps.size }
    elapsed = finished - started
    puts format("  created in %<created>.2f s; all done in %<elapsed>.2f s: %<tps>.1f tasks/s, %<sps>.1f steps/s " \
                "(%<steps>d steps, %<per_task>.1f ms per task on average)",
                created: created - started, elapsed: elapsed, tps: tasks.size / elapsed, sps: steps / elapsed,
                steps: steps, per_task: elapsed * 1000 / [tasks.size, 1].max)
    puts "  worker: #{@worker.stats}"
  end

  def summary
    puts
    if @failures.zero?
      puts "all results correct"
      0
    else
      puts "#{@failures} task(s) with wrong results"
      1
    end
  end

  def create(namespace, name, even_number, reason = "demo")
    TaskerCore.create_task(namespace: namespace, name: name, version: "1.0.0",
                           context: { "even_number" => even_number }, initiator: "examples/demo.rb",
                           source_system: "demo", reason: reason)
  end

  def correct?(status, expected)
    status.state == "complete" &&
      expected.all? { |step_name, value| status.step(step_name)&.results == value }
  end

  def shutdown
    @worker&.stop(timeout: 10)
    TaskerCore::Orchestrator.stop if TaskerCore::Orchestrator.running?
  rescue StandardError => e
    warn "demo: shutdown: #{e.class}: #{e.message}"
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end
end

exit(Demo.new(ARGV).run) if $PROGRAM_NAME == __FILE__
