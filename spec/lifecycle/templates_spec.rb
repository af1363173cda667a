# frozen_string_literal: true

require "tmpdir"

RSpec.describe "template registration", db: true do
  before { reset_tasker_database! }

  def template(steps, namespace: "shop", name: "order")
    { "namespace" => namespace, "name" => name, "version" => "1.0.0", "steps" => steps }
  end

  it "rejects an invalid template with the template, the step and the problem" do
    bad = template([{ "name" => "charge", "handler" => "Shop::Charge", "depends_on" => ["reserve"] }])
    expect { TaskerCore.register_templates!([bad]) }
      .to raise_error(TaskerCore::TemplateError,
                      %r{shop/order@1\.0\.0.*step "charge": depends on unknown step "reserve"})
    expect(TaskerCore.templates).to be_empty
  end

  it "rejects cycles, self-dependencies, duplicates and unsafe names" do
    cyclic = template([{ "name" => "a", "handler" => "A", "depends_on" => ["b"] },
                       { "name" => "b", "handler" => "B", "depends_on" => ["a"] }])
    expect do
      TaskerCore.register_templates!([cyclic])
    end.to raise_error(TaskerCore::TemplateError, /cycle: a -> b -> a|cycle: b -> a -> b/)
    own = template([{ "name" => "a", "handler" => "A", "depends_on" => ["a"] }])
    expect do
      TaskerCore.register_templates!([own])
    end.to raise_error(TaskerCore::TemplateError, /step "a": depends on itself/)
    dup = template([{ "name" => "a", "handler" => "A" }, { "name" => "a", "handler" => "A" }])
    expect { TaskerCore.register_templates!([dup]) }.to raise_error(TaskerCore::TemplateError, /duplicate step name/)
    evil = template([{ "name" => "a", "handler" => "A" }], namespace: "x'; DROP TABLE tasker.tasks; --")
    expect { TaskerCore.register_templates!([evil]) }.to raise_error(TaskerCore::TemplateError, /invalid namespace/)
    long = template([{ "name" => "a", "handler" => "A" }], namespace: "n" * 50)
    expect { TaskerCore.register_templates!([long]) }.to raise_error(TaskerCore::TemplateError, /invalid namespace/)
    expect(with_pg { |c| c.exec("SELECT count(*) FROM tasker.tasks").getvalue(0, 0) }).to eq("0")
  end

  it "names the file of invalid YAML" do
    Dir.mktmpdir do |dir|
      path = File.join(dir, "broken.yaml")
      File.write(path, "namespace: shop\nsteps: [unclosed\n")
      expect do
        TaskerCore.register_templates!(path)
      end.to raise_error(TaskerCore::TemplateError, /broken\.yaml: invalid YAML/)
    end
  end

  it "registers YAML from a directory and is idempotent" do
    Dir.mktmpdir do |dir|
      File.write(File.join(dir, "order.yaml"), <<~YAML)
        namespace: shop
        name: order
        version: 1.0
        steps:
          - name: charge
            handler: Shop::Charge
      YAML
      expect(TaskerCore.register_templates!(dir)).to eq(["shop/order@1.0"])
      expect(TaskerCore.register_templates!(dir)).to eq(["shop/order@1.0"])
      expect(TaskerCore.templates.map { |t| t.values_at("namespace", "name", "version") }).to eq([%w[shop order 1.0]])
    end
  end

  it "rejects create_task for an unknown namespace, name or version" do
    expect { TaskerCore.create_task(namespace: "nowhere", name: "order") }
      .to raise_error(TaskerCore::NotFoundError, %r{no template registered for nowhere/order})
    TaskerCore.register_templates!([template([{ "name" => "a", "handler" => "A" }])])
    expect { TaskerCore.create_task(namespace: "shop", name: "order", version: "9.9.9") }
      .to raise_error(TaskerCore::NotFoundError, /registered versions: 1\.0\.0/)
    expect { TaskerCore.create_task(namespace: "Bad Namespace", name: "order") }
      .to raise_error(TaskerCore::ArgumentError, /invalid namespace/)
    expect { TaskerCore.create_task(namespace: "shop", name: "order", context: [1, 2]) }
      .to raise_error(TaskerCore::ArgumentError, %r{context for shop/order must be a Hash, got Array})
  end
end
