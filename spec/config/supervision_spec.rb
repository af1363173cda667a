# frozen_string_literal: true

# The orchestrator's loops are supervised (src/orchestration/supervisor.rs): a loop that dies
# is logged and started again; one that keeps dying stops the orchestrator, which then says
# so in `running?` and `status`. The loops are made to die by a test hook compiled into the
# core (TaskerCore::Internal::Orchestrator.crash_loop: a panic inside the loop's task), which
# refuses to run unless TASKER_CORE_TEST_HOOKS=1.
RSpec.describe "supervised orchestrator loops", db: true do
  before do
    reset_tasker_database!
    register_example_workflows!
    ENV["TASKER_CORE_TEST_HOOKS"] = "1"
  end

  after do
    ENV.delete("TASKER_CORE_TEST_HOOKS")
    TaskerCore::Orchestrator.stop(timeout: 10)
  end

  def restarts = TaskerCore::Orchestrator.status["loop_restarts"]

  def crash(name) = TaskerCore::Internal::Orchestrator.crash_loop(name)

  it "restarts a loop that died, logs why, and keeps running tasks" do
    logger, io = capturing_logger
    TaskerCore.configure { |c| c.logger = logger }
    TaskerCore::Orchestrator.start
    expect(crash("results")).to be(true)
    wait_until(message: "the results loop restarted") { restarts == 1 }
    expect(crash("sweep")).to be(true)
    wait_until(message: "the sweep loop restarted") { restarts == 2 }
    status = TaskerCore::Orchestrator.status
    expect(status).to include("running" => true, "errors" => 2, "failure" => nil)
    expect(status["last_error"]).to eq(
      "orchestrator loop sweep died (panicked: crashed on purpose (test hook)); restarting it"
    )
    with_worker(namespaces: %w[linear_workflow]) do
      task = create_example_task("linear_workflow")
      expect(TaskerCore.wait_for_task(task.uuid, timeout: 20).state).to eq("complete")
    end
    wait_until(message: "the log lines") { io.string.include?("loop sweep died") }
    expect(io.string).to include("orchestrator loop results died (panicked: crashed on purpose (test hook))")
  ensure
    TaskerCore.configure { |c| c.logger = Logger.new($stderr, progname: "tasker-core") }
  end

  it "reports itself not running when a loop keeps dying" do
    TaskerCore::Orchestrator.start
    5.times do |n|
      crash("requests")
      wait_until(timeout: 15, message: "restart #{n + 1}") { restarts == n + 1 }
    end
    expect(TaskerCore::Orchestrator.running?).to be(true)
    crash("requests")
    wait_until(message: "the orchestrator to give up") { !TaskerCore::Orchestrator.running? }
    status = TaskerCore::Orchestrator.status
    expect(status["running"]).to be(false)
    expect(status["failure"])
      .to match(/\Aorchestrator loop requests died 6 times within 60s \(panicked: .*\); the orchestrator stopped\z/)
    expect(TaskerCore::Orchestrator.stop).to be(true)
  end

  it "refuses the hook outside tests" do
    TaskerCore::Orchestrator.start
    ENV.delete("TASKER_CORE_TEST_HOOKS")
    expect { crash("sweep") }.to raise_error(TaskerCore::OrchestratorError, /test hook/)
    ENV["TASKER_CORE_TEST_HOOKS"] = "1"
    expect { crash("nope") }
      .to raise_error(TaskerCore::ArgumentError,
                      /no orchestrator loop "nope" \(loops: requests, results, schedules, sweep\)/)
  end
end
