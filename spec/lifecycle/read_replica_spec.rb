# frozen_string_literal: true

require "tasker_core/web"
require "rack/test"
require_relative "../cli/support/cli_helpers"

# The handler of the read replica spec.
class ReplicaEcho < TaskerCore::StepHandler
  def call(_task, _sequence, _step)
    { "ok" => true }
  end
end

# read_database_url: the dashboard, the CLI, metrics and task_status read a real streaming
# replica; wait_for_task and the writes use the primary. Replay is paused on the replica, so
# the two databases disagree: what each call answers shows where it read, and the lag shows.
RSpec.describe "reads on a streaming replica", db: true do
  include Rack::Test::Methods
  include CliHelpers

  let(:app) { TaskerCore::Web.new(actions: false) }

  before(:context) do
    reason = TaskerTestReplica.unavailable_reason(TaskerTestDatabase.url)
    skip "no replica: #{reason}" if reason
    TaskerTestDatabase.prepare!
    @replica = TaskerTestReplica.new(TaskerTestDatabase.url).start
  end

  after(:context) { @replica&.stop }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "replica", "name" => "one", "version" => "1",
                                      "steps" => [{ "name" => "only", "handler" => "ReplicaEcho" }] }])
    @task = TaskerCore.create_task(namespace: "replica", name: "one", version: "1").uuid
    with_pg { |conn| @replica.catch_up(conn) }
    @replica.pause_replay
    TaskerCore.cancel_task(@task) # on the primary only, until replay resumes
    TaskerCore.configuration.read_database_url = @replica.url
  end

  after do
    TaskerCore.configuration.read_database_url = ""
    @replica.resume_replay
  end

  def states(metrics)
    metrics["tasks"].to_h { |row| [row["state"], row["count"]] }
  end

  it "answers task_status and metrics from the replica, with its lag, and wait_for_task from the primary" do
    expect(TaskerCore.task_status(@task).state).to eq("in_progress")
    expect(TaskerCore.wait_for_task(@task, timeout: 5).state).to eq("cancelled")

    metrics = TaskerCore.metrics
    expect(states(metrics)).to eq("in_progress" => 1)
    expect(metrics["replication"]).to include("replica" => true)
    expect(metrics["replication"]["lag_seconds"]).to be > 0
    expect(metrics["replication"]["replay_lag_bytes"]).to be > 0

    TaskerCore.configuration.read_database_url = ""
    expect(TaskerCore.task_status(@task).state).to eq("cancelled")
    expect(TaskerCore.metrics["replication"]).to eq("replica" => false, "lag_seconds" => nil,
                                                    "replay_lag_bytes" => nil)
  end

  it "reads a task the replica does not have yet on the primary" do
    fresh = TaskerCore.create_task(namespace: "replica", name: "one", version: "1").uuid
    expect(TaskerCore.task_status(fresh).state).to eq("in_progress")
  end

  it "catches up when replay resumes" do
    @replica.resume_replay
    with_pg { |conn| @replica.catch_up(conn) }
    expect(TaskerCore.task_status(@task).state).to eq("cancelled")
    expect(TaskerCore.metrics["replication"]).to include("replica" => true, "lag_seconds" => 0.0,
                                                         "replay_lag_bytes" => 0)
  end

  it "serves the dashboard's pages, API and /metrics from the replica" do
    get "/api/tasks/#{@task}"
    expect(JSON.parse(last_response.body)).to include("state" => "in_progress")
    get "/metrics"
    expect { PrometheusText.parse(last_response.body) }.not_to raise_error
    expect(last_response.body).to match(/^tasker_replica_lag_seconds [0-9.]+$/)
      .and match(/^tasker_tasks\{namespace="replica",template="one",state="in_progress"\} 1$/)
    get "/"
    expect(last_response.body).to include("Read from a streaming replica")
  end

  it "runs `tasker-core status` on the replica (TASKER_READ_DATABASE_URL)" do
    result = tasker_core("status", "--json", env: { "TASKER_READ_DATABASE_URL" => @replica.url })
    expect(result.code).to eq(0), result.err
    report = JSON.parse(result.out)
    expect(report["replication"]).to include("replica" => true)
    expect(report["tasks"]).to eq([{ "namespace" => "replica", "name" => "one", "state" => "in_progress",
                                     "count" => 1 }])
    text = tasker_core("status", env: { "TASKER_READ_DATABASE_URL" => @replica.url })
    expect(text.out).to include("read from a streaming replica")
  end
end
