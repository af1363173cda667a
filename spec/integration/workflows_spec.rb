# frozen_string_literal: true

require "spec_helper"
require_relative "../../examples/expected_results"

RSpec.describe "The example workflows" do
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

  def expect_correct(status, namespace, even_number)
    expect(status.state).to eq("complete"), -> { "#{namespace} ended #{status.state}: #{status.to_h}" }
    results = status.steps.to_h { |step| [step.name, step.results] }
    expect(results).to eq(Examples.expected_results(namespace, even_number))
    expect(status.steps.map(&:state).uniq).to eq(["complete"])
  end

  Examples::WORKFLOWS.each do |namespace, (name, _file, even_number)|
    it "#{name} (#{namespace}) ends with the right result at every step" do
      with_worker(namespaces: namespaces, concurrency: 4) do
        status = TaskerCore.wait_for_task(create_example_task(namespace).uuid, timeout: 30)
        expect_correct(status, namespace, even_number)
        expect(status.steps.map(&:attempts).uniq).to eq([1])
        final = Examples.final_step(namespace)
        expect(status.step(final).results).to eq(Examples.expected_results(namespace, even_number)[final])
      end
    end
  end

  it "keeps the last results exact at 2**64 and beyond" do
    with_worker(namespaces: namespaces, concurrency: 4) do
      status = TaskerCore.wait_for_task(create_example_task("tree_workflow", 6).uuid, timeout: 30)
      expect(status.step("final").results).to eq(6**64)
      expect(status.step("final").results).to be_a(Integer)
    end
  end

  it "runs 20 tasks of each shape at once on two workers, every handler exactly once per step" do
    CallRecorder.install!(Examples::SquareEvenNumber, Examples::SquareParents)
    CallRecorder.start!
    workers = [TaskerCore::Worker.start(namespaces: namespaces, concurrency: 4, database_url: TaskerTestDatabase.url),
               TaskerCore::Worker.start(namespaces: namespaces, concurrency: 2, database_url: TaskerTestDatabase.url)]
    begin
      tasks = Array.new(20) do |index|
        namespaces.map do |namespace|
          even_number = 2 * (1 + (index % 3))
          [create_example_task(namespace, even_number), namespace, even_number]
        end
      end.flatten(1)
      statuses = tasks.map { |task, _, _| TaskerCore.wait_for_task(task.uuid, timeout: 120) }
    ensure
      calls = CallRecorder.stop!
      stats = workers.map { |worker| worker.stop(timeout: 10) && worker.stats }
    end

    tasks.zip(statuses).each { |(_, namespace, even_number), status| expect_correct(status, namespace, even_number) }
    steps = statuses.flat_map(&:steps)
    expect(steps.size).to eq(20 * (4 + 4 + 8 + 7))
    expect(steps.map(&:attempts).uniq).to eq([1])
    expect(calls.keys).to match_array(steps.map { |step| step["step_uuid"] })
    expect(calls.values.uniq).to eq([1])
    expect(stats.sum { |s| s[:succeeded] }).to eq(steps.size)
    expect(stats.sum { |s| s[:failed] + s[:archived] + s[:errors] }).to eq(0)
    expect(stats.map { |s| s[:succeeded] }).to all(be_positive)
  end
end
