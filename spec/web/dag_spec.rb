# frozen_string_literal: true

require "tasker_core/web"

RSpec.describe TaskerCore::Web::Dag do
  def steps(spec)
    spec.map { |name, parents| { "name" => name, "depends_on" => parents } }
  end

  def node(dag, name)
    dag.nodes.find { |n| n.name == name }
  end

  it "puts each step one layer after its deepest parent, left to right" do
    dag = described_class.new(steps("a" => [], "b" => ["a"], "c" => ["a"], "d" => %w[b c], "e" => %w[a d]))
    expect(dag.nodes.to_h { |n| [n.name, n.layer] }).to eq("a" => 0, "b" => 1, "c" => 1, "d" => 2, "e" => 3)
    expect(dag.layer_count).to eq(4)
    expect(node(dag, "b").x).to be < node(dag, "d").x
    expect(node(dag, "b").x).to eq(node(dag, "c").x)
    expect(node(dag, "b").y).not_to eq(node(dag, "c").y)
  end

  it "routes an edge that skips layers around the steps in between" do
    # validate -> reserve -> pay, and validate -> pay directly (the fulfillment example).
    dag = described_class.new(steps("validate" => [], "reserve" => ["validate"], "pay" => %w[validate reserve]))
    skip_edge = dag.edges.find { |e| e.from == "validate" && e.to == "pay" }
    direct = dag.edges.find { |e| e.from == "reserve" && e.to == "pay" }
    expect(skip_edge.path).to include(" L") # runs straight through its own slot in the middle layer
    expect(direct.path).not_to include(" L")
    reserve = node(dag, "reserve")
    slot_y = skip_edge.path[/ L\d+,(\d+)/, 1].to_i
    expect(slot_y).not_to be_between(reserve.y, reserve.y + described_class::NODE_HEIGHT)
    expect(dag.height).to be >= (2 * described_class::NODE_HEIGHT)
  end

  it "orders a layer by its parents' positions to avoid crossings" do
    dag = described_class.new(steps("r1" => [], "r2" => [], "c2" => ["r2"], "c1" => ["r1"]))
    expect(node(dag, "c1").y).to be < node(dag, "c2").y
  end

  it "survives what a registered template can never have: cycles, unknown and repeated parents" do
    dag = described_class.new(steps("a" => ["b"], "b" => ["a"], "c" => %w[nope c a a]))
    expect(dag.nodes.map(&:name)).to eq(%w[a b c])
    expect(dag.edges.size).to eq(4)
    expect(described_class.new([]).empty?).to be(true)
  end

  it "keeps long names whole in the data and short on the label" do
    name = "a_really_long_step_name_that_goes_on"
    label = described_class.new(steps(name => [])).nodes.first.label
    expect(label.length).to eq(described_class::LABEL_CHARS)
    expect(label).to end_with("…")
  end

  it "lays out a wide and deep graph quickly" do
    graph = (0...300).to_h { |i| ["s#{i}", i < 20 ? [] : ["s#{i - 20}", "s#{i % 20}", "s#{i - 1}"].uniq] }
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    dag = described_class.new(steps(graph))
    expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 2
    expect(dag.nodes.size).to eq(300)
  end
end
