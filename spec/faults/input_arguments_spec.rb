# frozen_string_literal: true

require_relative "support/fault_report"

# What callers hand the public API is checked like a step's result (Worker::JsonValue): what is
# not JSON, nests too deep, holds a NUL or is not UTF-8 is a TaskerCore::ArgumentError naming
# the field and the path in it (a TemplateError for a template), never stored as its to_s and
# never a JSON::NestingError or a DatabaseError later.
RSpec.describe "bad arguments to the public API", db: true do
  limit = TaskerCore::Worker::JsonValue::MAX_DEPTH

  def nested(levels)
    (levels - 1).times.reduce({ "leaf" => 1 }) { |inner, _| { "a" => inner } }
  end

  def create(**options)
    TaskerCore.create_task(namespace: "inputs", name: "one", version: "1", **options)
  end

  def task_count
    with_pg { |c| Integer(c.exec("SELECT count(*) FROM tasker.tasks").getvalue(0, 0)) }
  end

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "inputs", "name" => "one", "version" => "1",
                                      "steps" => [{ "name" => "only", "handler" => "A" }] }])
  end

  it "refuses an Object, a Time or a Symbol in a context, a template config or an idempotency_key" do
    stamp = Time.at(0)
    refused = {
      { context: { "order" => { "placed_by" => Object.new } } } =>
        /Object at context\.order\.placed_by: not a JSON type/,
      { context: { "at" => [stamp] } } => /Time at context\.at\[0\]: not a JSON type/,
      { context: { "status" => :paid } } => /Symbol at context\.status: not a JSON type/,
      { idempotency_key: :order42 } => /idempotency_key must be a String, got Symbol/,
      { idempotency_key: stamp } => /idempotency_key must be a String, got Time/,
      { idempotency_key: Object.new } => /idempotency_key must be a String, got Object/
    }
    refused.each do |options, message|
      expect { create(**options) }.to raise_error(TaskerCore::ArgumentError, message)
    end
    expect(task_count).to eq(0)
    { Object.new => "Object", stamp => "Time", :east => "Symbol" }.each do |value, type|
      template = { "namespace" => "inputs", "name" => "configured", "version" => "1",
                   "steps" => [{ "name" => "ship", "handler" => "A", "config" => { "warehouse" => value } }] }
      expect { TaskerCore.register_templates!([template]) }
        .to raise_error(TaskerCore::TemplateError,
                        %r{inputs/configured@1: step "ship": #{type} at steps\[0\]\.config\.warehouse: not a JSON type})
    end
    expect(TaskerCore.templates.map { |t| t["name"] }).to eq(["one"])
    FaultReport.record(name: "Object, Time or Symbol in a context, config or idempotency_key",
                       how: "each refused with the path (ArgumentError; TemplateError for a template), " \
                            "nothing stored as its to_s", tasks: 0, completed: 0, duplicates: 0, lost: 0)
  end

  it "refuses a context or resolve_step result deeper than the limit, accepting the limit itself" do
    expect { create(context: nested(limit + 1)) }
      .to raise_error(TaskerCore::ArgumentError, /Object at context(\.a){#{limit}}: nested deeper than #{limit} levels/)
    task = create(context: nested(limit))
    expect(TaskerCore.task_status(task.uuid).context.to_s).to include('"leaf" => 1').or include('"leaf"=>1')
    expect { TaskerCore.resolve_step(task.uuid, "only", results: nested(limit + 1)) }
      .to raise_error(TaskerCore::ArgumentError, /Object at results(\.a){#{limit}}: nested deeper than #{limit} levels/)
    expect(TaskerCore.task_status(task.uuid).step("only").state).not_to eq("resolved_manually")
    # The template is level 1, steps 2, the step 3, its config 4.
    deep = { "namespace" => "inputs", "name" => "deep", "version" => "1",
             "steps" => [{ "name" => "only", "handler" => "A", "config" => nested(limit - 2) }] }
    expect { TaskerCore.register_templates!([deep]) }
      .to raise_error(TaskerCore::TemplateError,
                      /step "only": nested deeper than #{limit} levels at steps\[0\]\.config(\.a){#{limit - 3}}\z/)
    TaskerCore.register_templates!([deep.merge("steps" => [deep["steps"][0].merge("config" => nested(limit - 3))])])
    FaultReport.record(name: "Context or resolve_step result deeper than the limit",
                       how: "#{limit + 1} levels: ArgumentError naming the path; #{limit} levels are accepted",
                       tasks: 1, completed: 0, duplicates: 0, lost: 0)
  end

  it "names the field that holds a NUL or invalid UTF-8" do
    nul = "a\u0000b"
    refused = {
      { context: { "note" => nul } } => /String at context\.note: contains a NUL character/,
      { context: { nul => 1 } } => /String at context: contains a NUL character/,
      { initiator: nul } => /String at initiator: contains a NUL character/,
      { source_system: nul } => /String at source_system: contains a NUL/,
      { idempotency_key: nul } => /String at idempotency_key: contains a NUL/,
      { reason: "\xff\xfe".b.force_encoding(Encoding::UTF_8) } => /String at reason: invalid UTF-8/
    }
    refused.each do |options, message|
      expect { create(**options) }.to raise_error(TaskerCore::ArgumentError, message)
    end
    expect(task_count).to eq(0)
    task = create
    expect { TaskerCore.cancel_task(task.uuid, actor: nul) }
      .to raise_error(TaskerCore::ArgumentError, /String at actor: contains a NUL/)
    expect { TaskerCore.cancel_task(task.uuid, reason: "\xc3".b.force_encoding(Encoding::UTF_8)) }
      .to raise_error(TaskerCore::ArgumentError, /String at reason: invalid UTF-8/)
    expect { TaskerCore.resolve_step(task.uuid, "only", results: { "x" => nul }) }
      .to raise_error(TaskerCore::ArgumentError, /String at results\.x: contains a NUL/)
    template = { "namespace" => "inputs", "name" => "nul", "version" => "1",
                 "steps" => [{ "name" => "only", "handler" => "A", "config" => { "path" => nul } }] }
    expect { TaskerCore.register_templates!([template]) }
      .to raise_error(TaskerCore::TemplateError, /step "only": String at steps\[0\]\.config\.path: contains a NUL/)
    expect(TaskerCore.task_status(task.uuid).state).to eq("pending").or eq("in_progress")
    FaultReport.record(name: "NUL or invalid UTF-8 in a field",
                       how: "NUL in context (value and key), config, actor, initiator, source_system, " \
                            "idempotency_key; invalid UTF-8 in reason: ArgumentError naming the field",
                       tasks: 1, completed: 0, duplicates: 0, lost: 0)
  end
end
