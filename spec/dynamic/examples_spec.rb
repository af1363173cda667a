# frozen_string_literal: true

require "spec_helper"
require_relative "../../examples/expected_results"
require_relative "../../examples/dynamic_demo"

RSpec.describe "the dynamic workflow examples" do
  before(:all) do
    TaskerTestDatabase.prepare!
    start_orchestrator!
  end

  after(:all) { stop_orchestrator! }

  before do
    reset_tasker_database!
    register_example_workflows!
  end

  it "routes the approval by amount and sums the rows chunk by chunk, as the demo prints" do
    output = StringIO.new
    failures = with_worker(namespaces: DynamicDemo::NAMESPACES, concurrency: 4) do
      $stdout = output
      DynamicDemo.new.run
    ensure
      $stdout = STDOUT
    end
    expect(failures).to eq(0), output.string
    expect(output.string).to include("auto_approve complete, manager_review skipped",
                                     "auto_approve skipped, manager_review complete",
                                     "10 sum_chunk instances", "(expected 500500)")
  end
end
