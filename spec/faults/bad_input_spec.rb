# frozen_string_literal: true

require "tmpdir"
require_relative "support/faults"

# Every bad input gets an error that names the thing and the problem, and loses nothing:
# the good task running beside it completes.
RSpec.describe "bad input", :fault do
  def one_step(name, handler)
    { "namespace" => "faults", "name" => name, "version" => "1",
      "steps" => [{ "name" => "only", "handler" => handler }] }
  end

  # A task that ends in error because the case is meant to fail it is neither completed nor lost.
  def record(name, how, error: nil, tasks: 1, completed: 1, failed_as_meant: 0)
    FaultReport.record(name: name, how: error ? "#{how}: #{error}" : how, tasks: tasks, completed: completed,
                       duplicates: 0, lost: tasks - completed - failed_as_meant)
  end

  def good_task_completes
    uuid = create_fault_tasks(1).first
    wait_for_all([uuid], timeout: 30)
    TaskerCore.task_status(uuid).complete?
  end

  around do |example|
    with_fault_database do
      TaskerCore::Orchestrator.start
      spawn_fault_process("worker")
      example.run
    end
  end

  it "archives wrong-shaped step messages and keeps running" do
    bodies = ['{"hello": "world"}', '"just a string"', "[1, 2, 3]", '{"step_uuid": "nope", "attempt": "x"}']
    bodies.each { |b| fault_sql("SELECT pgmq.send('faults_queue', $1::jsonb)", [b]) }
    expect(good_task_completes).to be(true)
    Timeout.timeout(10) { sleep 0.1 until fault_sql("SELECT count(*) FROM pgmq.a_faults_queue").first["count"] == "4" }
    expect(fault_sql("SELECT count(*) FROM pgmq.q_faults_queue").first["count"]).to eq("0")
    record("Wrong-shaped step messages", "4 bodies (object without fields, string, array, bad types) sent to " \
                                         "faults_queue: all 4 archived in pgmq.a_faults_queue")
  end

  it "refuses malformed JSON at the queue itself" do
    expect { fault_sql("SELECT pgmq.send('faults_queue', $1::jsonb)", ['{"unclosed": ']) }
      .to raise_error(PG::InvalidTextRepresentation, /invalid input syntax for type json/)
    expect(good_task_completes).to be(true)
    record("Malformed JSON sent to a queue", "pgmq.send refuses it (message column is jsonb)",
           error: "invalid input syntax for type json")
  end

  it "archives wrong-shaped result messages and keeps running" do
    bodies = ['{"step_uuid": "not-a-uuid", "attempt": 1, "status": "success"}', "[1]",
              '{"step_uuid": "01890000-0000-7000-8000-000000000000", "attempt": 1, "status": "failure"}',
              '{"step_uuid": "01890000-0000-7000-8000-000000000000", "attempt": 1, "status": "success"}']
    bodies.each { |b| fault_sql("SELECT pgmq.send('tasker_step_results', $1::jsonb)", [b]) }
    expect(good_task_completes).to be(true)
    archived = -> { fault_sql("SELECT message::text FROM pgmq.a_tasker_step_results").map { |r| r["message"] } }
    deadline = Time.now + 10
    sleep 0.1 until archived.call.size >= 4 || Time.now > deadline
    expect(archived.call.size).to eq(4), "archived: #{archived.call}"
    record("Wrong-shaped result messages", "bad uuid, array, failure without error, unknown step: " \
                                           "all 4 archived in pgmq.a_tasker_step_results")
  end

  it "fails the step of an unknown handler with a message naming it" do
    TaskerCore.register_templates!([one_step("ghost", "Nobody::Home")])
    uuid = TaskerCore.create_task(namespace: "faults", name: "ghost", version: "1").uuid
    status = TaskerCore.wait_for_task(uuid, timeout: 20)
    error = status.step("only").last_error
    expect(status.state).to eq("error")
    expect(error["class"]).to eq("TaskerCore::UnknownHandlerError")
    expect(error["message"]).to include("Nobody::Home")
    expect(good_task_completes).to be(true)
    record("Unknown handler class",
           "template naming Nobody::Home; the step fails, not retried, the task ends in error as it should",
           error: error["message"], completed: 0, failed_as_meant: 1)
  end

  it "fails the step of a handler whose result is not JSON" do
    TaskerCore.register_templates!([one_step("unserializable", "FaultWorkflow::ReturnsObject")])
    uuid = TaskerCore.create_task(namespace: "faults", name: "unserializable", version: "1").uuid
    status = TaskerCore.wait_for_task(uuid, timeout: 20)
    error = status.step("only").last_error
    expect(error["class"]).to eq("TaskerCore::SerializationError")
    expect(error["message"]).to include("Object")
    expect(good_task_completes).to be(true)
    record("Handler result that is not JSON", "handler returns {\"when\" => Object.new}; the task ends in " \
                                              "error as it should", error: error["message"], completed: 0,
                                                                    failed_as_meant: 1)
  end

  it "rejects invalid templates at registration, naming template, step and problem" do
    cases = {
      "cyclic" => [[{ "name" => "a", "handler" => "A", "depends_on" => ["b"] },
                    { "name" => "b", "handler" => "B", "depends_on" => ["a"] }], /cycle/],
      "self-dependent" => [[{ "name" => "a", "handler" => "A", "depends_on" => ["a"] }], /depends on itself/],
      "unknown dependency" => [[{ "name" => "a", "handler" => "A", "depends_on" => ["zzz"] }], /unknown step "zzz"/],
      "duplicate names" => [[{ "name" => "a", "handler" => "A" }, { "name" => "a", "handler" => "A" }],
                            /duplicate step name/],
      "SQL injection as a step name" => [[{ "name" => "a'); DROP TABLE tasker.tasks;--", "handler" => "A" }],
                                         /invalid step name/]
    }
    messages = cases.map do |label, (steps, pattern)|
      template = { "namespace" => "faults", "name" => "bad", "version" => "1", "steps" => steps }
      expect { TaskerCore.register_templates!([template]) }
        .to raise_error(TaskerCore::TemplateError, %r{faults/bad@1.*#{pattern.source}}) { |e| @last = e.message }
      "#{label}: #{@last}"
    end
    injection = { "namespace" => "x; DROP TABLE tasker.tasks", "name" => "bad", "version" => "1",
                  "steps" => [{ "name" => "a", "handler" => "A" }] }
    long = injection.merge("namespace" => "n" * 45)
    [injection, long].each do |t|
      expect { TaskerCore.register_templates!([t]) }.to raise_error(TaskerCore::TemplateError, /invalid namespace/)
    end
    Dir.mktmpdir do |dir|
      File.write(File.join(dir, "broken.yaml"), "namespace: faults\nsteps: [\n")
      expect do
        TaskerCore.register_templates!(dir)
      end.to raise_error(TaskerCore::TemplateError, /broken\.yaml: invalid YAML/)
    end
    expect(TaskerCore.templates.map { |t| t["name"] }).to match_array(%w[diamond fan_out])
    expect(good_task_completes).to be(true)
    record("Invalid templates", "invalid YAML, cyclic, self-dependent, unknown dependency, duplicate names, " \
                                "SQL injection in step and namespace names, a 45-character namespace: each refused, " \
                                "nothing registered", error: messages.first, tasks: 0, completed: 0)
  end

  it "rejects a context that is not a Hash and unknown templates or versions" do
    expect { TaskerCore.create_task(namespace: "faults", name: "diamond", version: "1", context: "x=1") }
      .to raise_error(TaskerCore::ArgumentError, %r{context for faults/diamond must be a Hash, got String})
    expect { TaskerCore.create_task(namespace: "faults", name: "nothing") }
      .to raise_error(TaskerCore::NotFoundError, %r{no template registered for faults/nothing})
    expect { TaskerCore.create_task(namespace: "faults", name: "diamond", version: "7") }
      .to raise_error(TaskerCore::NotFoundError, /registered versions: 1/)
    expect(fault_sql("SELECT count(*) FROM tasker.tasks").first["count"]).to eq("0")
    expect(good_task_completes).to be(true)
    record("Context not a Hash; unknown template or version", "create_task refuses before any SQL write",
           error: "no template registered for faults/diamond@7; registered versions: 1", tasks: 0, completed: 0)
  end

  it "carries a 10 MB context to the handler" do
    TaskerCore.register_templates!([one_step("huge", "FaultWorkflow::MeasuresContext")])
    blob = "x" * (10 * 1024 * 1024)
    uuid = TaskerCore.create_task(namespace: "faults", name: "huge", version: "1", context: { "blob" => blob }).uuid
    status = TaskerCore.wait_for_task(uuid, timeout: 60)
    expect(status.step("only").results).to eq("blob_bytes" => blob.bytesize)
    expect(good_task_completes).to be(true)
    record("A 10 MB context", "create_task with a 10 MiB string in the context; the handler reads all of it")
  end
end
