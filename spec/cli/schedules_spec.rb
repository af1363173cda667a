# frozen_string_literal: true

require "json"
require "fileutils"
require "tmpdir"
require_relative "support/cli_helpers"

# tasker-core schedules (list, register, remove), and status's scheduled tasks.
RSpec.describe "exe/tasker-core schedules", db: true do
  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "reports", "name" => "nightly", "version" => "1.0.0",
                                      "steps" => [{ "name" => "build", "handler" => "Reports::Build" }] }])
  end

  it "registers a YAML file, lists the next fire times and removes" do
    Dir.mktmpdir do |dir|
      file = File.join(dir, "schedules.yml")
      File.write(file, <<~YAML)
        nightly_report:
          namespace: reports
          name: nightly
          cron: "0 2 * * *"
          timezone: Europe/Berlin
      YAML
      registered = tasker_core("schedules", "register", file)
      expect([registered.code, registered.out]).to eq([0, "registered nightly_report\n"]), registered.err

      listed = tasker_core("schedules")
      expect(listed.code).to eq(0)
      upcoming = TaskerCore.schedules.first["upcoming"].map { |t| t[0, 19].tr("T", " ") }
      expect(listed.out).to include("nightly_report", "reports/nightly", "0 2 * * *", "Europe/Berlin", *upcoming)
      expect(JSON.parse(tasker_core("schedules", "list", "--json").out).map { |s| s["name"] }).to eq(["nightly_report"])

      expect(tasker_core("schedules", "remove", "nightly_report").out).to eq("removed nightly_report\n")
      missing = tasker_core("schedules", "remove", "nightly_report")
      expect([missing.code, missing.err]).to eq([1, "tasker-core: no schedule named \"nightly_report\"\n"])
      expect(tasker_core("schedules").out).to eq("no schedules registered\n")
    end
  end

  it "exits 1 naming the file and the schedule when one is bad" do
    Dir.mktmpdir do |dir|
      file = File.join(dir, "schedules.yml")
      File.write(file, "broken:\n  namespace: reports\n  name: nightly\n  cron: \"0 2 * * *\"\n  timezone: Moon/Base\n")
      result = tasker_core("schedules", "register", file)
      expect(result.code).to eq(1)
      expect(result.err).to include("#{file}: schedule \"broken\": timezone \"Moon/Base\" is not a known IANA timezone")
    end
  end

  it "registers the schedules files when a process starts with its templates" do
    Dir.mktmpdir do |dir|
      templates = FileUtils.mkdir_p(File.join(dir, "templates")).first
      File.write(File.join(templates, "nightly.yml"), <<~YAML)
        namespace: reports
        name: nightly
        version: 1.0.0
        steps: [{name: build, handler: Reports::Build}]
      YAML
      schedules = File.join(dir, "schedules.yml")
      File.write(schedules, "nightly_report: {namespace: reports, name: nightly, cron: \"0 2 * * *\"}\n")
      log = File.join(dir, "orchestrator.log")
      env = { "TASKER_TEMPLATE_PATHS" => templates, "TASKER_SCHEDULE_PATHS" => schedules }
      pid = spawn_tasker_core("orchestrator", "--register-templates", log: log, env: env)
      begin
        wait_for_output(log, /registered 1 schedule\(s\): nightly_report/, pid: pid)
      ensure
        stop_process(pid)
      end
      expect(TaskerCore.schedules.map { |s| [s["name"], s["timezone"]] }).to eq([%w[nightly_report UTC]])
    end
  end

  def task_run_at(task)
    TaskerCore.task_status(task.uuid).run_at.utc.iso8601(3)
  end

  it "shows tasks waiting for their run_at in status and task, not as stuck" do
    task = TaskerCore.create_task(namespace: "reports", name: "nightly", run_at: Time.now + 3600)
    with_pg { |conn| conn.exec("UPDATE tasker.workflow_steps SET enqueued_at = now() - interval '1 hour'") }
    result = tasker_core("status")
    expect(result.code).to eq(0)
    scheduled = result.out[/^Scheduled tasks.*?(?=\n\n|\z)/m]
    expect(scheduled).to include("reports/nightly #{task.uuid}", "59m")
    stuck = result.out[/^Stuck steps.*?(?=\n\n|\z)/m]
    expect(stuck).to include("(none)")
    expect(tasker_core("task", task.uuid).out.lines[2]).to eq("  starts #{task_run_at(task)}\n")
  end
end
