# frozen_string_literal: true

require "spec_helper"
require "set"

RSpec.describe TaskerCore::Worker::JsonValue do
  def normalize(value)
    described_class.normalize(value)
  end

  it "keeps plain JSON values, symbol keys becoming strings" do
    value = { a: [1, 2.5, "x", nil, true, false], "b" => { c: 2**100 } }
    expect(normalize(value)).to eq("a" => [1, 2.5, "x", nil, true, false], "b" => { "c" => 2**100 })
  end

  it "returns plain copies (a Hash subclass becomes a Hash)" do
    subclass = Class.new(Hash)
    copy = normalize(subclass[{ "a" => 1 }])
    expect(copy.class).to eq(Hash)
  end

  it "converts other encodings to UTF-8" do
    expect(normalize("caf\xE9".dup.force_encoding("ISO-8859-1"))).to eq("café")
  end

  {
    "a Symbol value" => [{ "a" => [1, :sym] }, "Symbol at $.a[1]"],
    "a Time" => [{ "at" => Time.now }, "Time at $.at"],
    "NaN" => [[Float::NAN], "Float at $[0]"],
    "Infinity" => [{ "x" => Float::INFINITY }, "Float at $.x"],
    "an Integer key" => [{ 1 => "a" }, "Integer at $"],
    "invalid UTF-8" => [{ "s" => "\xFF".dup.force_encoding("UTF-8") }, "String at $.s: invalid UTF-8"],
    "a NUL character" => [{ "s" => "a\u0000b" }, "String at $.s: contains a NUL character"],
    "a NUL character in a key" => [{ "a\u0000" => 1 }, "String at $: contains a NUL character"],
    "binary bytes" => [{ "s" => "\xFF".b }, "String at $.s: cannot be converted"],
    "a Set" => [Set.new([1]), "Set at $"],
    "a key needing quotes" => [{ "a b" => Object.new }, 'Object at $["a b"]'],
    "colliding keys" => [{ "a" => 1, a: 2 }, 'duplicate key "a"']
  }.each do |what, (value, message)|
    it "refuses #{what}, naming class and path" do
      expect { normalize(value) }.to raise_error(described_class::NotJson) { |error|
        expect(error.message).to include(message)
      }
    end
  end

  it "refuses nesting deeper than the orchestrator can parse" do
    deep = 150.times.reduce(1) { |inner, _| [inner] }
    expect { normalize(deep) }.to raise_error(described_class::NotJson, /deeper than 100/)
    ok = 50.times.reduce(1) { |inner, _| { "a" => inner } }
    expect { normalize(ok) }.not_to raise_error
  end
end
