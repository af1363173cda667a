# frozen_string_literal: true

# TaskerCore::Runtime in this process: start/stop, and forks (the Puma/Unicorn case) where the
# child starts its own workers and nothing it does, exiting included, breaks the parent's.
RSpec.describe TaskerCore::Runtime, db: true do
  before do
    reset_tasker_database!
    register_example_workflows!
    start_orchestrator!
    described_class.plan = TaskerCore::Runtime::Plan.new(
      "orchestrator" => false, "register_templates" => false, "shutdown_timeout" => 5,
      "workers" => { "namespaces" => ["diamond_workflow"], "concurrency" => 1, "poll_interval" => 0.2 }
    )
  end

  after do
    described_class.stop!
    described_class.plan = nil
  end

  def run_diamond
    TaskerCore.wait_for_task(create_example_task("diamond_workflow").uuid, timeout: 20).state
  end

  it "starts the plan's workers once, reports them, and stops them" do
    described_class.start!
    workers = described_class.workers
    described_class.start!
    expect(described_class.workers).to eq(workers)
    expect(described_class.status).to include(pid: Process.pid, running: true, orchestrator: false)
    expect(run_diamond).to eq("complete")
    expect(described_class.stop!).to be(true)
    expect([described_class.running?, workers.first.running?]).to eq([false, false])
  end

  it "starts fresh in a forked child and leaves the parent's connections alone when the child exits" do
    described_class.start!
    parent_worker = described_class.workers.first
    reader, writer = IO.pipe
    child = fork do
      reader.close
      state = run_diamond
      status = described_class.status
      writer.puts JSON.generate("state" => state, "running" => status[:running], "pid" => status[:pid],
                                "workers" => status[:workers].map { |w| w[:id] })
      writer.close
      # A normal exit: at_exit stops the child's runtime and every inherited object is finalized.
    end
    writer.close
    _, child_status = Process.wait2(child)
    report = JSON.parse(reader.read)
    expect(child_status.success?).to be(true)
    expect(report).to include("state" => "complete", "running" => true, "pid" => child)
    expect(report["workers"]).not_to include(parent_worker.id)

    expect(run_diamond).to eq("complete") # the parent's worker and connections still work
    stats = parent_worker.stats
    expect(stats[:errors]).to eq(0)
    expect(described_class.workers).to eq([parent_worker])
  end

  it "starts nothing in a child forked from another thread (a handler that forks)" do
    described_class.start!
    reader, writer = IO.pipe
    child = Thread.new { fork { writer.write(described_class.running?.inspect) } }.value
    writer.close
    Process.wait(child)
    expect(reader.read).to eq("false")
  end

  it "defers to the forked children when told the process will fork (start_after_fork!)" do
    described_class.start_after_fork!
    expect([described_class.running?, described_class.waiting_for_fork?]).to eq([false, true])
    reader, writer = IO.pipe
    child = fork { writer.write(described_class.running?.inspect) }
    writer.close
    Process.wait(child)
    expect(reader.read).to eq("true")
  ensure
    described_class.instance_variable_set(:@deferred, false)
  end
end
