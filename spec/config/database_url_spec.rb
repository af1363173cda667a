# frozen_string_literal: true

require_relative "../faults/support/fault_report"

require "uri"
require_relative "support"

# One reading of the database URL (src/config/conninfo.rs, as libpq reads it) and one
# redaction (src/config/redact.rs), for the orchestrator, create_task and the workers alike.
RSpec.describe "the database URL", db: true do
  let(:base) { URI.parse(TaskerTestDatabase.url) }

  before do
    reset_tasker_database!
    register_example_workflows!
  end

  after { stop_orchestrator! }

  def run_linear_task(url, logger)
    start_orchestrator!
    with_worker(namespaces: %w[linear_workflow], database_url: url, logger: logger) do
      task = create_example_task("linear_workflow")
      expect(TaskerCore.wait_for_task(task.uuid, timeout: 20).state).to eq("complete")
    end
  end

  it "with the host and port in its query (empty host) works for the orchestrator, create_task and workers" do
    url = "postgresql://#{base.user}:unused@/#{base.path.delete_prefix("/")}?host=#{base.host}&port=#{base.port}"
    with_configuration(database_url: url) do
      logger, _io = capturing_logger
      run_linear_task(url, logger)
    end
    FaultReport.record(name: "URL with its host and port in the query (empty host)",
                       how: "postgresql://u@/db?host=...&port=...: orchestrator, create_task and workers run",
                       tasks: 1, completed: 1, duplicates: 0, lost: 0)
  end

  it "never shows a ?password= in a log line, a status, an error or an inspect" do
    password = "Sekr3t#{rand(1_000_000)}"
    url = "#{TaskerTestDatabase.url}?password=#{password}"
    logger, io = capturing_logger
    logger.level = Logger::DEBUG
    seen = []
    with_configuration(database_url: url, logger: logger, log_level: "debug") do |config|
      run_linear_task(url, logger)
      seen << TaskerCore::Orchestrator.status.to_json << config.inspect << config.redacted_database_url
      expect(TaskerCore::Orchestrator.status["database"]).to end_with("?password=***")
      unreachable = "postgresql://postgres:#{password}@127.0.0.1:1/db?sslpassword=#{password}&password=#{password}"
      expect { TaskerCore::Worker.start(namespaces: %w[linear_workflow], database_url: unreachable, logger: logger) }
        .to raise_error(TaskerCore::DatabaseError) { |e| seen << e.message }
      config.database_url = unreachable.sub(":1/", ":1x/")
      expect { config.validate! }.to raise_error(TaskerCore::ConfigurationError) { |e| seen << e.message }
    end
    seen << io.string
    expect(io.string).to include("[core] orchestrator started").and include("password=***")
    expect(seen.join("\n")).not_to include(password)
    FaultReport.record(name: "Password given as ?password= in the URL",
                       how: "a full workflow; every log line, status, error and inspect searched: no password",
                       tasks: 1, completed: 1, duplicates: 0, lost: 0)
  end

  it "works with a pool of one connection: migrate!, the orchestrator and create_task" do
    with_configuration(pool_size: 1, orchestrator_pool_size: 1) do
      TaskerCore.migrate!
      logger, _io = capturing_logger
      run_linear_task(TaskerTestDatabase.url, logger)
      expect(TaskerCore::Orchestrator.status).to include("connected" => true, "errors" => 0)
    end
  end
end
