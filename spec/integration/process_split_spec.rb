# frozen_string_literal: true

require "spec_helper"
require "open3"
require "timeout"
require "json"
require_relative "../../examples/expected_results"

# The orchestrator runs in this process; the only worker runs in another Ruby process. Tasks
# finishing with the right results proves the two halves need nothing but the database.
RSpec.describe "Worker and orchestrator in separate processes" do
  let(:root) { File.expand_path("../..", __dir__) }
  let(:namespaces) { Examples::WORKFLOWS.keys }

  before(:all) do
    TaskerTestDatabase.prepare!
    start_orchestrator!
  end

  after(:all) { stop_orchestrator! }

  before do
    reset_tasker_database!
    register_example_workflows!
  end

  def spawn_worker
    env = { "DATABASE_URL" => TaskerTestDatabase.url, "CONCURRENCY" => "4" }
    script = File.join(root, "spec", "integration", "worker_process.rb")
    stdin, out, wait = Open3.popen2e(env, RbConfig.ruby, "-I#{File.join(root, "lib")}", script, *namespaces,
                                     chdir: root)
    stdin.close
    ready = Timeout.timeout(30) { out.each_line.find { |line| line.start_with?("ready") } }
    raise "worker process did not start" unless ready

    [wait, out, Integer(ready.split.last)]
  end

  it "completes every example with the worker in a child process" do
    wait, out, worker_pid = spawn_worker
    expect(worker_pid).not_to eq(Process.pid)

    tasks = 5.times.flat_map { namespaces.map { |namespace| [create_example_task(namespace), namespace] } }
    tasks.each do |task, namespace|
      status = TaskerCore.wait_for_task(task.uuid, timeout: 60)
      expect(status.state).to eq("complete")
      even_number = Examples::WORKFLOWS.fetch(namespace)[2]
      expect(status.steps.to_h { |step| [step.name, step.results] })
        .to eq(Examples.expected_results(namespace, even_number))
    end

    Process.kill("TERM", wait.pid)
    output = Timeout.timeout(30) { out.read }
    expect(wait.value).to be_success
    stats = JSON.parse(output[/^stats (.*)$/, 1])
    expect(stats["succeeded"]).to eq(5 * (4 + 4 + 8 + 7))
  ensure
    if wait&.alive?
      Process.kill("KILL", wait.pid)
      wait.join
    end
  end
end
