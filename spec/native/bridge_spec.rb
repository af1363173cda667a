# frozen_string_literal: true

# The Ruby <-> Rust boundary: the GVL is released while Rust waits, interrupts reach a
# waiting thread, and a forked child gets a working runtime of its own.
RSpec.describe "native bridge", db: true do
  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "idle", "name" => "never", "version" => "1",
                                      "steps" => [{ "name" => "a", "handler" => "Idle::Never" }] }])
  end

  let(:task) { TaskerCore.create_task(namespace: "idle", name: "never") }

  it "lets other Ruby threads run while wait_for_task blocks" do
    ticks = 0
    ticker = Thread.new do
      loop do
        ticks += 1
        sleep 0.01
      end
    end
    expect { TaskerCore.wait_for_task(task.uuid, timeout: 0.6) }
      .to raise_error(TaskerCore::TimeoutError, /task #{task.uuid} is still in_progress after 0\.6s/)
    ticker.kill
    expect(ticks).to be > 20
  end

  it "delivers Thread#raise to a thread blocked in wait_for_task" do
    waiter = Thread.new do
      TaskerCore.wait_for_task(task.uuid, timeout: 30)
    rescue Interrupt => e
      e
    end
    sleep 0.3
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    waiter.raise(Interrupt, "stop waiting")
    expect(waiter.value).to be_a(Interrupt)
    expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 2
  end

  it "works in a forked child, where the parent's orchestrator is not running" do
    TaskerCore::Orchestrator.start
    TaskerCore.task_status(task.uuid) # the parent's runtime and pool are in use
    reader, writer = IO.pipe
    pid = fork do
      reader.close
      state = TaskerCore.task_status(task.uuid).state
      writer.write(JSON.generate("state" => state, "running" => TaskerCore::Orchestrator.running?))
      writer.close
      exit!(0)
    end
    writer.close
    _, status = Process.wait2(pid)
    expect(status.exitstatus).to eq(0)
    expect(JSON.parse(reader.read)).to eq("state" => "in_progress", "running" => false)
    expect(TaskerCore::Orchestrator.running?).to be(true)
  ensure
    TaskerCore::Orchestrator.stop
  end

  it "refuses a second orchestrator in one process" do
    TaskerCore::Orchestrator.start
    expect { TaskerCore::Orchestrator.start }.to raise_error(TaskerCore::OrchestratorError, /already running/)
    expect(TaskerCore::Orchestrator.stop).to be(true)
    expect(TaskerCore::Orchestrator.running?).to be(false)
    expect(TaskerCore::Orchestrator.stop).to be(false)
  end

  it "names the bad configuration key" do
    config = TaskerCore::Configuration.new
    config.pool_size = 0
    expect { config.validate! }
      .to raise_error(TaskerCore::ConfigurationError, /pool_size must be an integer between 1 and 1000, got 0/)
  end
end
