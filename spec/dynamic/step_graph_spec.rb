# frozen_string_literal: true

require "spec_helper"
require "tasker_core/cli"
require "tasker_core/cli/dag_renderer"
require "tasker_core/web"

RSpec.describe TaskerCore::StepGraph do
  def steps(instances, states: ["complete"])
    [{ "name" => "split", "state" => "complete", "depends_on" => [] }] +
      Array.new(instances) do |i|
        { "name" => "square[#{i}]", "element_of" => "square", "index" => i,
          "state" => states[i % states.size], "depends_on" => ["split"] }
      end +
      [{ "name" => "sum", "state" => "pending", "depends_on" => ["square"] }]
  end

  it "draws a few instances one by one, each feeding the template's dependents" do
    drawn = described_class.for_drawing(steps(3))
    expect(drawn.map { |s| s["name"] }).to eq(%w[split square[0] square[1] square[2] sum])
    expect(drawn.last["depends_on"]).to eq(%w[square[0] square[1] square[2]])
    expect(drawn[1]["depends_on"]).to eq(["split"])
  end

  it "collapses more than 20 instances into one node with counts per state" do
    drawn = described_class.for_drawing(steps(25, states: %w[complete complete complete complete in_progress]))
    expect(drawn.map { |s| s["name"] }).to eq(%w[split square[25] sum])
    expect(drawn[1]).to include("counts" => { "complete" => 20, "in_progress" => 5 }, "state" => "in_progress",
                                "instances" => 25)
    expect(drawn.last["depends_on"]).to eq(["square[25]"])
    # the dashboard's DAG links each node to its row of the status's step table
    expect(TaskerCore::Web::Dag.new(drawn).nodes.map(&:anchor)).to eq([0, 1, 26])
    mermaid = TaskerCore::CLI::DagRenderer.new("t", drawn).mermaid
    expect(mermaid).to include("square[25]", "complete 20, in_progress 5", "s_square_25_ --> s_sum")
  end

  it "leaves a task without instances as it is, and colours skipped steps" do
    plain = [{ "name" => "r", "state" => "complete", "depends_on" => [] },
             { "name" => "a", "state" => "skipped", "depends_on" => ["r"] },
             { "name" => "b", "state" => "complete", "depends_on" => ["r"] }]
    expect(described_class.for_drawing(plain).map { |s| s.except("row") }).to eq(plain)
    dag = TaskerCore::Web::Dag.new(described_class.for_drawing(plain))
    expect([dag.skipped?("a"), dag.skipped?("b")]).to eq([true, false])
    renderer = TaskerCore::CLI::DagRenderer.new("t", plain)
    expect(renderer.dot).to include('fillcolor="#fafafa"', '"r" -> "a" [style=dashed];', '"r" -> "b";')
    expect(renderer.mermaid).to include("s_r -.-> s_a", "s_r --> s_b")
  end
end
