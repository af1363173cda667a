# frozen_string_literal: true

require "logger"
require "stringio"

# Orchestrator, workers and the example workflows, for specs that run tasks end to end.
module RuntimeHelpers
  EXAMPLES_DIR = File.expand_path("../../examples", __dir__)

  def load_example_workflows!
    require File.join(EXAMPLES_DIR, "expected_results")
    Examples.load_handlers
  end

  # Loads the example handlers and registers the example templates (after a reset).
  def register_example_workflows!
    load_example_workflows!
    TaskerCore.register_templates!(Examples.template_paths)
  end

  def start_orchestrator!
    TaskerCore::Orchestrator.start unless TaskerCore::Orchestrator.running?
  end

  def stop_orchestrator!
    TaskerCore::Orchestrator.stop if TaskerCore::Orchestrator.running?
  end

  # A quiet logger that keeps what it was told, for assertions on log lines.
  def capturing_logger
    io = StringIO.new
    logger = Logger.new(io)
    logger.level = Logger::INFO
    [logger, io]
  end

  # Starts a worker for the block and always stops it.
  def with_worker(namespaces:, concurrency: 2, **options)
    worker = TaskerCore::Worker.start(namespaces: namespaces, concurrency: concurrency,
                                      database_url: TaskerTestDatabase.url, **options)
    yield worker
  ensure
    worker&.stop(timeout: 10)
  end

  def wait_until(timeout: 10, interval: 0.02, message: "condition")
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    loop do
      result = yield
      return result if result
      if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
        raise "timed out after #{timeout}s waiting for #{message}"
      end

      sleep interval
    end
  end

  def create_example_task(namespace, even_number = nil, **options)
    name, _file, default_number = Examples::WORKFLOWS.fetch(namespace)
    TaskerCore.create_task(namespace: namespace, name: name, version: "1.0.0",
                           context: { "even_number" => even_number || default_number }, **options)
  end
end

RSpec.configure do |config|
  config.include RuntimeHelpers
  # No example group leaves an orchestrator running for the next one (it would be pointed at
  # whatever database that group used).
  config.after(:context) do
    TaskerCore::Orchestrator.stop(timeout: 10) if TaskerCore::Orchestrator.running?
  end
end
