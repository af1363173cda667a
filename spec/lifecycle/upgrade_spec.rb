# frozen_string_literal: true

require "English"
require "uri"

# A database migrated before the migrations were squashed (spec/fixtures/pre_baseline.sql: the
# sixteen old migrations, the example templates and a task whose first step is enqueued) is
# recognised by migrate!: the baseline is recorded as applied, the functions become exactly
# those of sql/, and the task that was waiting runs to the end.
RSpec.describe "migrate! on a database from before the baseline", db: true do
  let(:scratch) { "tasker_upgrade_spec" }
  let(:fixture) { File.expand_path("../fixtures/pre_baseline.sql", __dir__) }
  let(:migration_versions) do
    Dir[File.expand_path("../../migrations/*.sql", __dir__)].map { |f| File.basename(f)[/\A\d+/] }
  end
  let(:sql_functions) { Dir[File.expand_path("../../sql/*.sql", __dir__)].map { |f| File.basename(f, ".sql") } }

  def url_for(database)
    uri = URI.parse(TaskerTestDatabase.url)
    uri.path = "/#{database}"
    uri.to_s
  end

  def admin(sql)
    conn = PG.connect(url_for("postgres"))
    conn.exec(sql)
  ensure
    conn&.close
  end

  def query(sql)
    conn = PG.connect(url_for(scratch))
    conn.exec(sql).to_a
  ensure
    conn&.close
  end

  def with_database_url(url)
    config = TaskerCore.configuration
    saved = config.database_url
    config.database_url = url
    yield
  ensure
    config.database_url = saved
  end

  before do
    stop_orchestrator!
    admin("DROP DATABASE IF EXISTS #{scratch} WITH (FORCE)")
    admin("CREATE DATABASE #{scratch}")
    out = IO.popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", fixture, url_for(scratch)],
                   err: %i[child out], &:read)
    raise "restoring #{fixture} failed: #{out}" unless $CHILD_STATUS.success?
  end

  after do
    stop_orchestrator!
    admin("DROP DATABASE IF EXISTS #{scratch} WITH (FORCE)")
  end

  it "records the baseline, replaces the functions with sql/'s, and runs the waiting task" do
    expect(query("SELECT count(*) AS n FROM _sqlx_migrations").first["n"]).to eq("16")
    with_database_url(url_for(scratch)) do
      TaskerCore.migrate!
      TaskerCore.migrate!
      versions = query("SELECT version FROM _sqlx_migrations ORDER BY version").map { |r| r["version"] }
      expect(versions).to eq(migration_versions)
      functions = query("SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace " \
                        "WHERE n.nspname = 'tasker'").map { |r| r["proname"] }
      expect(functions.grep_v(/\Aqueue_(claim|submit|send)_/)).to match_array(sql_functions)
      expect(functions).to include("queue_claim_linear_workflow_queue", "queue_submit_linear_workflow_queue",
                                   "queue_send_linear_workflow_queue")
      expect(functions).not_to include("claim_next", "enqueue_ready_steps", "step_readiness")

      load_example_workflows!
      uuid = query("SELECT task_uuid FROM tasker.tasks WHERE idempotency_key = 'before-the-baseline'")
             .first.fetch("task_uuid")
      start_orchestrator!
      with_worker(namespaces: %w[linear_workflow], database_url: url_for(scratch)) do
        status = TaskerCore.wait_for_task(uuid, timeout: 20)
        expect(status.state).to eq("complete")
        expect(status.steps.map(&:state).uniq).to eq(["complete"])
      end
    end
  end
end
