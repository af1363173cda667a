# frozen_string_literal: true

require "open3"
require "tmpdir"
require "time"

# Recurring schedules against the real database: registration, listing, removal, and the
# orchestrators' loop firing them (one process here, three separate processes in one example).
RSpec.describe "recurring schedules", db: true do
  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "reports", "name" => "nightly", "version" => "1.0.0",
                                      "steps" => [{ "name" => "build", "handler" => "SpecStartClock" }] }])
  end

  after { stop_orchestrator! }

  def register(name = "nightly", **options)
    TaskerCore.register_schedule(name, namespace: "reports", name: "nightly", version: "1.0.0",
                                       cron: "0 2 * * *", timezone: "UTC", **options)
  end

  def schedule_tasks(name)
    with_pg do |conn|
      conn.exec_params("SELECT task_uuid, idempotency_key, initiator, tags::text FROM tasker.tasks
                         WHERE idempotency_key LIKE $1 ORDER BY idempotency_key", ["schedule:#{name}:%"]).to_a
    end
  end

  describe "registration" do
    it "stores a schedule whose first fire is the first fire time after its registration" do
      schedule = register(context: { "format" => "pdf" })
      now = Time.now.utc
      expected = Time.utc(now.year, now.month, now.day, 2)
      expected += 86_400 if expected <= now
      expect(Time.iso8601(schedule["next_fire_at"])).to eq(expected)
      expect(schedule["upcoming"].map { |t| Time.iso8601(t) }).to eq([expected, expected + 86_400, expected + 172_800])
      expect(TaskerCore.schedules.map { |s| [s["name"], s["cron"], s["context"]] })
        .to eq([["nightly", "0 2 * * *", { "format" => "pdf" }]])
    end

    it "takes 6 fields with seconds first, and a timezone" do
      before = Time.now
      schedule = register("every_second", cron: "* * * * * *", timezone: "Europe/Berlin")
      next_fire = Time.iso8601(schedule["next_fire_at"])
      expect(next_fire).to be > before.floor
      expect(next_fire).to be <= Time.now + 1
    end

    it "upserts by name and removes" do
      register
      register(cron: "30 3 * * *", timezone: "America/New_York")
      expect(TaskerCore.schedules.map { |s| [s["name"], s["cron"], s["timezone"]] })
        .to eq([["nightly", "30 3 * * *", "America/New_York"]])
      expect(TaskerCore.remove_schedule("nightly")).to be(true)
      expect(TaskerCore.remove_schedule("nightly")).to be(false)
      expect(TaskerCore.schedules).to eq([])
    end

    it "refuses a bad cron, an unknown timezone and an unknown template, naming them" do
      expect { register(cron: "0 2 * *") }
        .to raise_error(TaskerCore::ArgumentError, /schedule "nightly": cron "0 2 \* \*" has 4 fields/)
      expect { register(cron: "0 25 * * *") }
        .to raise_error(TaskerCore::ArgumentError, /cron "0 25 \* \* \*" is not a valid cron expression/)
      expect { register(timezone: "Mars/Olympus") }
        .to raise_error(TaskerCore::ArgumentError, %r{timezone "Mars/Olympus" is not a known IANA timezone})
      expect do
        TaskerCore.register_schedule("x", namespace: "reports", name: "weekly", cron: "0 2 * * *")
      end.to raise_error(TaskerCore::NotFoundError, %r{schedule "x": no template registered for reports/weekly})
      expect(TaskerCore.schedules).to eq([])
    end
  end

  describe "firing" do
    it "after downtime fires only the latest missed fire time, once" do
      register("hourly", cron: "0 * * * *")
      with_pg do |conn|
        conn.exec("UPDATE tasker.schedules SET next_fire_at = date_trunc('hour', now()) - interval '5 hours'")
      end
      start_orchestrator!
      wait_until(message: "the missed fire") { !schedule_tasks("hourly").empty? }
      latest = Time.now.utc
      latest = Time.utc(latest.year, latest.month, latest.day, latest.hour)
      schedule = TaskerCore.schedules.first
      expect(Time.iso8601(schedule["next_fire_at"])).to eq(latest + 3600)
      tasks = schedule_tasks("hourly")
      expect(tasks.map { |t| t["idempotency_key"] }).to eq(["schedule:hourly:#{latest.iso8601}"])
      expect(tasks.first).to include("initiator" => "schedule", "tags" => "{schedule:hourly}")
      expect(schedule["last_task_uuid"]).to eq(tasks.first["task_uuid"])
    end

    it "creates exactly one task per fire time with three orchestrators" do
      register("every_second", cron: "* * * * * *")
      first = TaskerCore.schedules.first["next_fire_at"]
      processes = []
      begin
        3.times { processes << spawn_orchestrator }
        wait_until(timeout: 20, message: "four fires") { schedule_tasks("every_second").size >= 4 }
      ensure
        processes.each { |process| stop_process(process) }
      end
      tasks = schedule_tasks("every_second")
      keys = tasks.map { |t| t["idempotency_key"] }
      expect(keys.uniq.size).to eq(keys.size)
      expect(with_pg { |conn| conn.exec("SELECT count(*) FROM tasker.tasks").getvalue(0, 0).to_i }).to eq(tasks.size)
      fire_times = keys.map { |k| Time.iso8601(k.delete_prefix("schedule:every_second:")) }
      expect(fire_times.min).to be >= Time.iso8601(first)
      expect(fire_times.map(&:usec).uniq).to eq([0])
    end
  end

  describe "YAML files" do
    it "registers every schedule of a file and names the file and schedule of a bad one" do
      Dir.mktmpdir do |dir|
        good = File.join(dir, "schedules.yml")
        File.write(good, <<~YAML)
          nightly_report:
            namespace: reports
            name: nightly
            version: 1.0.0
            cron: "0 2 * * *"
            timezone: Europe/Berlin
            context: {format: pdf}
        YAML
        expect(TaskerCore.register_schedules!([good])).to eq(["nightly_report"])
        expect(TaskerCore.schedules.map { |s| [s["name"], s["timezone"], s["context"]] })
          .to eq([["nightly_report", "Europe/Berlin", { "format" => "pdf" }]])
        bad = File.join(dir, "bad.yml")
        File.write(bad, "broken:\n  namespace: reports\n  name: nightly\n  cron: \"0 2 * *\"\n")
        expect { TaskerCore.register_schedules!([bad]) }
          .to raise_error(TaskerCore::ArgumentError, /#{Regexp.escape(bad)}: schedule "broken": cron "0 2 \* \*"/)
        File.write(bad, "broken:\n  namespace: reports\n  name: nightly\n  every: day\n")
        expect { TaskerCore.register_schedules!([bad]) }
          .to raise_error(TaskerCore::ArgumentError, /bad.yml: schedule "broken": unknown keys every/)
      end
    end
  end

  def spawn_orchestrator
    stdin, out, thread = Open3.popen2e({ "DATABASE_URL" => TaskerTestDatabase.url }, RbConfig.ruby,
                                       File.expand_path("../faults/bin/orchestrator.rb", __dir__))
    stdin.close
    line = Timeout.timeout(30) { out.gets }
    raise "orchestrator did not start: #{line.inspect}" unless line&.start_with?("ready")

    Thread.new { out.each_line { |_| nil } }
    thread
  end

  def stop_process(thread)
    Process.kill(:TERM, thread.pid)
    thread.join(10) || Process.kill(:KILL, thread.pid)
  rescue Errno::ESRCH
    nil
  end
end
