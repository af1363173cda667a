# frozen_string_literal: true

require "spec_helper"

module ResolverSpecHandlers
  class WithConfig < TaskerCore::StepHandler
    def call(_task, _sequence, _step)
      config["greeting"]
    end
  end

  class Plain
    def call(_task, _sequence, step)
      step.name
    end
  end

  class NoCall < TaskerCore::StepHandler; end

  module Callable
    def self.call(_task, _sequence, _step)
      :module
    end
  end

  # The Tasker family's entry point.
  class Processes
    def process(_task, _sequence, step)
      "processed #{step.name}"
    end
  end

  # Not a handler; its `new` must never run.
  class Recorder
    @made = 0

    class << self
      attr_accessor :made
    end

    def initialize
      self.class.made += 1
    end
  end
end

RSpec.describe TaskerCore::Worker::HandlerResolver do
  subject(:resolver) { described_class.new }

  let(:task) do
    TaskerCore::Types::Task.new(uuid: "0190b3a0-1111-7000-8000-000000000001", namespace: "spec", name: "resolve",
                                version: "1.0.0", context: {})
  end

  def step(handler)
    TaskerCore::Types::Step.new(uuid: "0190b3a0-2222-7000-8000-000000000002", name: "the_step", handler: handler,
                                config: { "greeting" => "hi" }, attempt: 1, max_attempts: 3, timeout_seconds: 5,
                                depends_on: [])
  end

  it "instantiates a StepHandler subclass with the step's config, one instance per call" do
    first = resolver.resolve(task, step("ResolverSpecHandlers::WithConfig"))
    second = resolver.resolve(task, step("ResolverSpecHandlers::WithConfig"))
    expect(first.config).to eq("greeting" => "hi")
    expect(first).not_to equal(second)
  end

  it "accepts any class whose instances respond to call, and a callable module" do
    expect(resolver.resolve(task, step("ResolverSpecHandlers::Plain"))).to be_a(ResolverSpecHandlers::Plain)
    expect(resolver.resolve(task, step("::ResolverSpecHandlers::Callable"))).to eq(ResolverSpecHandlers::Callable)
  end

  it "names the handler, the step and the task for an unknown constant" do
    expect { resolver.resolve(task, step("Nope::Missing")) }.to raise_error(described_class::Error) { |error|
      expect(error.error_class).to eq("TaskerCore::UnknownHandlerError")
      expect(error.message).to include("Nope::Missing", '"the_step"', "spec/resolve")
    }
  end

  it "refuses a handler name that is not a constant path without evaluating it" do
    expect { resolver.resolve(task, step("system('true')")) }
      .to raise_error(described_class::Error, /not a constant name/)
  end

  it "refuses a handler without call" do
    expect { resolver.resolve(task, step("ResolverSpecHandlers::NoCall")) }.to raise_error(described_class::Error) { |e|
      expect(e.error_class).to eq("TaskerCore::InvalidHandlerError")
      expect(e.message).to include("does not respond to call")
    }
  end

  it "refuses a class whose instances have neither call nor process without calling new" do
    %w[File Thread PG::Connection ResolverSpecHandlers::Recorder].each do |name|
      expect { resolver.resolve(task, step(name)) }.to raise_error(described_class::Error) { |e|
        expect(e.error_class).to eq("TaskerCore::InvalidHandlerError")
        expect(e.message).to include("handler #{name} ", "is a class that is not a step handler")
      }
    end
    expect(ResolverSpecHandlers::Recorder.made).to eq(0)
  end

  it "runs a handler that has only process" do
    handler = resolver.resolve(task, step("ResolverSpecHandlers::Processes"))
    expect(described_class.invoke(handler, task, nil, step("ResolverSpecHandlers::Processes")))
      .to eq("processed the_step")
  end
end
