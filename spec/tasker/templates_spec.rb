# frozen_string_literal: true

require "spec_helper"
require "tmpdir"
require_relative "support"

RSpec.describe "Tasker-format templates", db: true do
  before { reset_tasker_database! }

  def tasker(steps, **top)
    { "name" => "order", "namespace_name" => "shop", "step_templates" => steps }.merge(top.transform_keys(&:to_s))
  end

  def step(name, **keys)
    { "name" => name, "handler_class" => "Shop::#{name.capitalize}" }.merge(keys.transform_keys(&:to_s))
  end

  def registered(name = "order")
    TaskerCore.templates.find { |t| t["name"] == name }.fetch("template")
  end

  it "reads every top-level and step key into the one template model" do
    charge = step("charge", description: "charges", handler_config: { "gateway" => "x" }, timeout_seconds: 5,
                            default_retryable: true, default_retry_limit: 7, skippable: true,
                            dependent_system: "bank", custom_events: ["charged"])
    ship = step("ship", depends_on_step: "charge", depends_on_steps: %w[charge])
    template = tasker([charge, ship],
                      version: "2.0.0", description: "an order", module_namespace: "Shop",
                      task_handler_class: "OrderTask", default_dependent_system: "shop_db",
                      named_steps: %w[ship charge], custom_events: [{ "name" => "x" }],
                      default_context: { "region" => "eu" }, default_options: { "reason" => "r" },
                      handler_config: { "tier" => 1 }, schema: { "type" => "object" })
    TaskerFixtureFiles.with_env("TASKER_ENV" => "test") { TaskerCore.register_templates!([template]) }
    t = registered
    expect(t).to include("namespace" => "shop", "name" => "order", "version" => "2.0.0", "description" => "an order",
                         "context_schema" => { "type" => "object" }, "default_context" => { "region" => "eu" },
                         "default_options" => { "reason" => "r" }, "handler_config" => { "tier" => 1 })
    expect(t["tasker"]).to eq("module_namespace" => "Shop", "task_handler_class" => "OrderTask",
                              "default_dependent_system" => "shop_db", "named_steps" => %w[ship charge],
                              "custom_events" => [{ "name" => "x" }], "environment" => "test")
    expect(t["steps"].first).to eq(
      "name" => "charge", "handler" => "Shop::Charge", "description" => "charges", "config" => { "gateway" => "x" },
      "retry" => { "max_attempts" => 8, "retryable" => true }, "timeout_seconds" => 5,
      "tasker" => { "skippable" => true, "dependent_system" => "bank", "custom_events" => ["charged"] }
    )
    expect(t["steps"].last).to eq("name" => "ship", "handler" => "Shop::Ship", "depends_on" => ["charge"],
                                  "config" => {}, "retry" => { "max_attempts" => 4, "retryable" => true })
  end

  it "names an unknown key, top-level or in a step" do
    expect { TaskerCore.register_templates!([tasker([step("a")], retries: 3)]) }
      .to raise_error(TaskerCore::TemplateError, %r{shop/order@\?: unknown field `retries`})
    expect { TaskerCore.register_templates!([tasker([step("a", depends_on: ["b"])])]) }
      .to raise_error(TaskerCore::TemplateError, /unknown field `depends_on`/)
    expect { TaskerCore.register_templates!([tasker([step("a")], default_options: { "priority" => 1 })]) }
      .to raise_error(TaskerCore::TemplateError, /default_options: unknown option "priority"/)
    expect(TaskerCore.templates).to be_empty
  end

  it "validates like a native template: unknown dependencies, cycles, names" do
    expect { TaskerCore.register_templates!([tasker([step("a", depends_on_step: "zzz")])]) }
      .to raise_error(TaskerCore::TemplateError,
                      %r{shop/order@1\.0\.0 is invalid: step "a": depends on unknown step "zzz"})
    cyclic = tasker([step("a", depends_on_steps: ["b"]), step("b", depends_on_step: "a")])
    expect { TaskerCore.register_templates!([cyclic]) }.to raise_error(TaskerCore::TemplateError, /cycle/)
    expect { TaskerCore.register_templates!([tasker([step("a")], named_steps: %w[a b])]) }
      .to raise_error(TaskerCore::TemplateError,
                      /named_steps \["a", "b"\] must name exactly the step_templates \["a"\]/)
  end

  it "reads default_retry_limit as an integer or a numeric string, refusing anything else" do
    TaskerCore.register_templates!([tasker([step("a", default_retry_limit: "0"), step("b", default_retry_limit: 2)])])
    expect(registered["steps"].map { |s| s["retry"]["max_attempts"] }).to eq([1, 3])
    expect { TaskerCore.register_templates!([tasker([step("a", default_retry_limit: "lots")])]) }
      .to raise_error(TaskerCore::TemplateError, /step "a": default_retry_limit must be an integer, got "lots"/)
    expect { TaskerCore.register_templates!([tasker([step("a", default_retry_limit: -1)])]) }
      .to raise_error(TaskerCore::TemplateError, /default_retry_limit must be between 0 and 999/)
  end

  it "names the file and step of a Tasker template that is not JSON" do
    Dir.mktmpdir do |dir|
      path = File.join(dir, "order.yaml")
      File.write(path, <<~YAML)
        name: order
        namespace_name: shop
        step_templates:
          - name: a
            handler_class: A
            handler_config: {when: !ruby/symbol soon}
      YAML
      expect { TaskerCore.register_templates!(path) }
        .to raise_error(TaskerCore::TemplateError, %r{order\.yaml: template shop/order@\?: step "a": })
    end
  end

  it "refuses an integer a template cannot hold exactly, naming where it is" do
    big = tasker([step("a", handler_config: { "limits" => [1, 2**64] })], default_context: { "n" => (2**63) - 1 })
    expect { TaskerCore.register_templates!([big]) }
      .to raise_error(TaskerCore::TemplateError,
                      /step "a": Integer at step_templates\[0\]\.handler_config\.limits\[1\]: \d+ does not fit/)
    fits = tasker([step("a", handler_config: { "max" => (2**64) - 1 })], default_context: { "min" => -2**63 })
    TaskerCore.register_templates!([fits])
    expect(registered.dig("steps", 0, "config", "max")).to eq((2**64) - 1)
    expect(registered.dig("default_context", "min")).to eq(-2**63)
  end

  describe "environments" do
    let(:file) { TaskerFixtureFiles.template("deployment") }

    def announce_in(env, rails: nil, rack: nil)
      TaskerFixtureFiles.with_env("TASKER_ENV" => env, "RAILS_ENV" => rails, "RACK_ENV" => rack) do
        TaskerCore.register_templates!(file)
      end
      registered("deploy")["steps"].first.slice("config", "retry")
    end

    it "deep-merges the current environment's step overrides over the base" do
      expect(announce_in("production")).to eq(
        "config" => { "target" => "https://prod.example.com", "channel" => "dev" },
        "retry" => { "max_attempts" => 6, "retryable" => true }
      )
      expect(announce_in("legacy")).to eq("config" => { "target" => "http://localhost", "channel" => "ops" },
                                          "retry" => { "max_attempts" => 2, "retryable" => true })
      expect(announce_in("staging")["config"]).to eq("target" => "http://localhost", "channel" => "dev")
      expect(registered("deploy")["tasker"]["environment"]).to eq("staging")
    end

    it "takes the environment from TASKER_ENV, then RAILS_ENV, then RACK_ENV, else development" do
      expect(announce_in(nil, rails: "production", rack: "legacy")["retry"]["max_attempts"]).to eq(6)
      expect(announce_in(nil, rack: "legacy")["retry"]["max_attempts"]).to eq(2)
      announce_in(nil)
      expect(registered("deploy")["tasker"]["environment"]).to eq("development")
    end

    it "checks every environment's overrides, not only the current one's" do
      bad = tasker([step("a")], environments: { "qa" => { "step_templates" => [{ "name" => "b" }] } })
      expect { TaskerCore.register_templates!([bad]) }
        .to raise_error(TaskerCore::TemplateError, /environments\.qa: step_templates\[0\] names unknown step "b"/)
      typo = tasker([step("a")], environments: { "qa" => { "step_override" => {} } })
      expect { TaskerCore.register_templates!([typo]) }
        .to raise_error(TaskerCore::TemplateError, /unknown field `step_override`/)
    end
  end
end
