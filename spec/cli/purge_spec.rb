# frozen_string_literal: true

require_relative "support/cli_helpers"

# Echo handler of the purge command's spec.
class PurgeCliEcho < TaskerCore::StepHandler
  def call(_task, _sequence, _step)
    { "ok" => true }
  end
end

RSpec.describe "exe/tasker-core purge", db: true do
  include CliHelpers

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "cli_purge", "name" => "one", "version" => "1",
                                      "steps" => [{ "name" => "only", "handler" => "PurgeCliEcho" }] }])
    @old = TaskerCore::Testing.run_task(namespace: "cli_purge", name: "one", version: "1").uuid
    @recent = TaskerCore::Testing.run_task(namespace: "cli_purge", name: "one", version: "1").uuid
    with_pg do |conn|
      conn.exec_params("UPDATE tasker.tasks SET completed_at = now() - interval '31 days' WHERE task_uuid = $1",
                       [@old])
    end
  end

  def tasks_left
    with_pg { |conn| conn.exec("SELECT task_uuid FROM tasker.tasks ORDER BY task_uuid").column_values(0) }
  end

  it "counts on --dry-run, then deletes what is older than --older-than" do
    dry = tasker_core("purge", "--older-than", "30d", "--dry-run")
    expect(dry.code).to eq(0), dry.err
    expect(dry.out).to include("would delete (dry run)")
    expect(dry.out).to match(/tasks\s+1$/).and match(/workflow_steps\s+1$/)
    expect(tasks_left).to contain_exactly(@old, @recent)

    done = tasker_core("purge", "--older-than", "30d", "--json")
    expect(done.code).to eq(0), done.err
    expect(JSON.parse(done.out)).to include("tasks" => 1, "workflow_steps" => 1, "dry_run" => false)
    expect(tasks_left).to eq([@recent])
  end

  it "refuses a missing or malformed age with exit status 2, naming the option" do
    missing = tasker_core("purge")
    expect([missing.code, missing.err]).to match([2, /--older-than AGE is required/])
    bad = tasker_core("purge", "--older-than", "30 days")
    expect([bad.code, bad.err]).to match([2, /--older-than must be a number with s, m, h, d or w/])
    expect(tasks_left).to contain_exactly(@old, @recent)
  end

  it "reads ages in seconds, minutes, hours, days and weeks" do
    require "tasker_core/cli/purge"
    ages = %w[90 90s 2m 1.5h 30d 2w].map { |age| TaskerCore::CLI::Purge.seconds(age) }
    expect(ages).to eq([90.0, 90.0, 120.0, 5400.0, 2_592_000.0, 1_209_600.0])
  end
end
