# frozen_string_literal: true

require "spec_helper"

RSpec.describe TaskerCore::Sequence do
  subject(:sequence) do
    described_class.new({ "init" => 4, "left" => 16, "right" => { "n" => 16 } },
                        depends_on: %w[right left], step_name: "validate")
  end

  it "returns an ancestor's results by name (string or symbol)" do
    expect(sequence.get("init")).to eq(4)
    expect(sequence.get(:left)).to eq(16)
    expect(sequence["right"]).to eq("n" => 16)
  end

  it "raises a clear error naming the step and the known ancestors for anything else" do
    expect { sequence.get("nope") }.to raise_error(TaskerCore::Sequence::UnknownStepError) { |error|
      expect(error).to be_a(TaskerCore::Error)
      expect(error.message).to include('"nope"', '"validate"', "init, left, right", "depends_on")
    }
  end

  it "says so when the step has no ancestors at all" do
    expect { described_class.new({}, step_name: "root").get("x") }
      .to raise_error(TaskerCore::Sequence::UnknownStepError, /root.*has no ancestors/)
  end

  it "gives the direct parents' results in depends_on order" do
    expect(sequence.parents.to_a).to eq([["right", { "n" => 16 }], ["left", 16]])
  end

  it "tells a nil result apart from a missing step" do
    seq = described_class.new({ "a" => nil })
    expect(seq.get("a")).to be_nil
    expect(seq.key?("a")).to be(true)
    expect(seq.key?("b")).to be(false)
    expect(seq.fetch("b", :none)).to eq(:none)
    expect(seq.fetch("b") { |name| "no #{name}" }).to eq("no b")
    expect { seq.fetch("b") }.to raise_error(TaskerCore::Sequence::UnknownStepError)
  end

  it "is Enumerable over name, results pairs and converts to a Hash copy" do
    expect(sequence.map { |name, _| name }).to eq(%w[init left right])
    expect(sequence.size).to eq(3)
    hash = sequence.to_h
    hash["init"] = 0
    expect(sequence.get("init")).to eq(4)
    expect(sequence.names).to eq(%w[init left right])
  end
  it "reads a deferred ancestor's results through its loader, once, and counts it among its names" do
    asked = []
    loader = lambda do |name|
      asked << name
      (1..3).to_a
    end
    seq = described_class.new({ "init" => 4 }, deferred: ["split"], loader: loader)
    expect(seq.names).to eq(%w[init split])
    expect(seq.key?("split")).to be(true)
    expect(seq.skipped?("split")).to be(false)
    expect(seq.get("split")).to eq([1, 2, 3])
    expect(seq.to_h).to eq("init" => 4, "split" => [1, 2, 3])
    expect(seq.map { |name, _| name }).to eq(%w[init split])
    expect(asked).to eq(["split"])
  end

  it "says why when a deferred result cannot be read (no loader)" do
    seq = described_class.new({}, deferred: ["split"])
    expect { seq.get("split") }.to raise_error(TaskerCore::Sequence::NotLoadedError, /"split" was not carried/)
  end
end
