# frozen_string_literal: true

require "net/http"
require "socket"
require "tmpdir"
require_relative "support/cli_helpers"

# The commands that run processes: migrate, orchestrator, worker (signals, draining), demo, web.
RSpec.describe "exe/tasker-core migrate, orchestrator, worker, demo, web", db: true do
  # A one-step workflow whose handler sleeps for context["sleep"] seconds.
  def write_sleepy_workflow(dir)
    File.write(File.join(dir, "sleepy.yaml"), <<~YAML)
      namespace: cli_sleepy
      name: nap
      version: 1.0.0
      steps:
        - {name: nap, handler: CliSleepy::Nap, timeout_seconds: 60}
    YAML
    Dir.mkdir(File.join(dir, "handlers"))
    File.write(File.join(dir, "handlers", "nap.rb"), <<~RUBY)
      module CliSleepy
        class Nap < TaskerCore::StepHandler
          def call(task, _sequence, _step)
            sleep task.context.fetch("sleep")
            {"slept" => task.context.fetch("sleep"), "pid" => Process.pid}
          end
        end
      end
    RUBY
  end

  def nap(seconds)
    TaskerCore.create_task(namespace: "cli_sleepy", name: "nap", version: "1.0.0", context: { "sleep" => seconds }).uuid
  end

  before { reset_tasker_database! }

  it "migrate is idempotent" do
    2.times do
      result = tasker_core("migrate")
      expect([result.code, result.out]).to eq([0, "migrated #{TaskerTestDatabase.url}\n"])
    end
  end

  it "runs an orchestrator and a worker as processes; TERM drains the running step, then they exit 0" do
    Dir.mktmpdir do |dir|
      write_sleepy_workflow(dir)
      orchestrator_log = File.join(dir, "orchestrator.log")
      worker_log = File.join(dir, "worker.log")
      orchestrator = spawn_tasker_core("orchestrator", "--register-templates", log: orchestrator_log,
                                                                               env: { "TASKER_TEMPLATE_PATHS" => dir })
      worker = spawn_tasker_core("worker", "--namespaces", "cli_sleepy", "--concurrency", "2",
                                 "--require", File.join(dir, "handlers"), "--drain-timeout", "10", log: worker_log)
      wait_for_output(orchestrator_log, /started in pid #{orchestrator}: the orchestrator/, pid: orchestrator)
      wait_for_output(worker_log, /started in pid #{worker}: workers for cli_sleepy \(concurrency 2\)/, pid: worker)
      expect(File.read(orchestrator_log)).to include("registered 1 template(s): cli_sleepy/nap@1.0.0")

      expect(TaskerCore.wait_for_task(nap(0), timeout: 15).state).to eq("complete")

      running = nap(1.5)
      wait_until(message: "the nap to start") { TaskerCore.task_status(running).step("nap").state == "in_progress" }
      worker_status = stop_process(worker)
      expect(worker_status&.exitstatus).to eq(0)
      log = File.read(worker_log)
      expect(log).to include("SIGTERM received, shutting down (up to 10.0 s", "stopped in pid #{worker}")
      expect(log).to match(/worker \S+ stopped: \{:processed=>2, :succeeded=>2, :failed=>0/)
      expect(TaskerCore.wait_for_task(running, timeout: 15).step("nap").results)
        .to eq("slept" => 1.5, "pid" => worker)

      expect(stop_process(orchestrator, signal: "INT")&.exitstatus).to eq(0)
      expect(File.read(orchestrator_log)).to include("SIGINT received", "stopped in pid #{orchestrator}")
    ensure
      [orchestrator, worker].compact.each { |pid| stop_process(pid, signal: "KILL", timeout: 2) }
    end
  end

  it "exits at once on a second signal (the interrupted step is redelivered after its timeout)" do
    Dir.mktmpdir do |dir|
      write_sleepy_workflow(dir)
      TaskerCore.register_templates!([File.join(dir, "sleepy.yaml")])
      start_orchestrator!
      log = File.join(dir, "worker.log")
      worker = spawn_tasker_core("worker", "-n", "cli_sleepy", "-r", File.join(dir, "handlers", "nap.rb"), log: log)
      wait_for_output(log, /started in pid #{worker}/, pid: worker)
      task = nap(30)
      wait_until(message: "the nap to start") { TaskerCore.task_status(task).step("nap").state == "in_progress" }
      Process.kill("TERM", worker)
      wait_for_output(log, /SIGTERM received/)
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      status = stop_process(worker, signal: "TERM", timeout: 5)
      expect(status&.exitstatus).to eq(1)
      expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 3
    ensure
      stop_process(worker, signal: "KILL", timeout: 2) if worker
    end
  end

  it "runs the demo" do
    result = tasker_core("demo", "--tasks", "1", "--concurrency", "2", timeout: 120)
    expect(result.code).to eq(0), result.out + result.err
    expect(result.out).to include("== the four examples", "4/4 tasks returned the expected value at every step",
                                  "all results correct")
  end

  it "serves the dashboard with web" do
    port = TCPServer.open("127.0.0.1", 0) { |server| server.addr[1] }
    Dir.mktmpdir do |dir|
      log = File.join(dir, "web.log")
      web = spawn_tasker_core("web", "--port", port, log: log)
      response = wait_until(timeout: 20, interval: 0.1, message: "the dashboard on port #{port}") do
        Net::HTTP.get_response(URI("http://127.0.0.1:#{port}/health"))
      rescue SystemCallError
        nil
      end
      expect(response.code).to eq("200"), File.read(log)
      expect(stop_process(web, signal: "INT")).not_to be_nil
    ensure
      stop_process(web, signal: "KILL", timeout: 2) if web
    end
  end
end
