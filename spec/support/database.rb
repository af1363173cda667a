# frozen_string_literal: true

require "pg"
require "monitor"
require "json"

# The test database: DATABASE_URL (bin/test points it at tasker_test), migrated once per run,
# and only when an example tagged `db: true` is going to run (spec/integration is tagged
# automatically), so unit specs run without PostgreSQL.
module TaskerTestDatabase
  DEFAULT_URL = "postgresql://postgres@127.0.0.1:54329/tasker_test"
  TABLES = %w[paused_namespaces namespace_controls rejected_task_requests step_transitions task_transitions
              workflow_step_edges workflow_steps tasks named_tasks namespaces schedules].freeze

  @lock = Monitor.new
  @prepared = false
  @conn = nil

  class << self
    def url
      ENV.fetch("DATABASE_URL", DEFAULT_URL)
    end

    # Configures TaskerCore for the test database and runs the migrations (idempotent).
    def prepare!
      @lock.synchronize do
        return if @prepared

        require "tasker_core"
        TaskerCore.configure { |config| config.database_url = url }
        TaskerCore.migrate!
        @prepared = true
      end
    end

    # One shared connection for direct SQL from the specs, reopened if it broke.
    def with_connection
      @lock.synchronize do
        @conn = nil if @conn && (@conn.finished? || @conn.status != PG::CONNECTION_OK)
        @conn ||= PG.connect(url, application_name: "tasker-core specs")
        yield @conn
      end
    end
  end
end

# Direct SQL for specs: `with_pg { |conn| conn.exec(...) }` and a clean slate per example.
module DatabaseHelpers
  def with_pg(&)
    TaskerTestDatabase.with_connection(&)
  end

  # Empties every tasker table and every pgmq queue and its archive; the queues themselves stay.
  def reset_tasker_database!
    TaskerTestDatabase.prepare!
    with_pg do |conn|
      tables = TaskerTestDatabase::TABLES.map { |table| "tasker.#{table}" }.join(", ")
      truncate_all(conn, tables)
      queues = conn.exec("SELECT queue_name FROM pgmq.meta").column_values(0)
      conn.exec("SELECT pgmq.purge_queue(queue_name) FROM pgmq.meta")
      queues.each { |queue| conn.exec("DELETE FROM pgmq.#{conn.quote_ident("a_#{queue}")}") }
    end
  end

  # An orchestrator left running by an example group (before(:all)) may hold row locks while
  # TRUNCATE takes its table locks one by one: take them all up front, in one order, and
  # retry if PostgreSQL still picks us as a deadlock victim.
  def truncate_all(conn, tables, tries: 5)
    conn.transaction do
      conn.exec("LOCK TABLE #{tables} IN ACCESS EXCLUSIVE MODE")
      conn.exec("TRUNCATE #{tables} RESTART IDENTITY CASCADE")
    end
  rescue PG::TRDeadlockDetected
    tries -= 1
    raise if tries.zero?

    sleep 0.05
    retry
  end

  def queue_messages(queue)
    with_pg do |conn|
      conn.exec("SELECT msg_id, read_ct, message::text FROM pgmq.q_#{safe_queue(queue)} ORDER BY msg_id")
          .map { |row| row.merge("message" => JSON.parse(row["message"])) }
    end
  end

  def archived_messages(queue)
    with_pg do |conn|
      conn.exec("SELECT msg_id, read_ct, message::text FROM pgmq.a_#{safe_queue(queue)} ORDER BY msg_id")
          .map { |row| row.merge("message" => JSON.parse(row["message"])) }
    end
  end

  # Sends raw JSON text to a queue, as any producer could.
  def send_raw_message(queue, json_text)
    with_pg do |conn|
      Integer(conn.exec_params("SELECT pgmq.send($1::text, $2::jsonb)", [queue, json_text]).getvalue(0, 0))
    end
  end

  # The buffers (shared hits and reads) one run of `sql` touched, as EXPLAIN (ANALYZE, BUFFERS)
  # counts them at its top plan node: the functions it calls included. Runs in the caller's
  # transaction, which should roll it back.
  def buffers_read(conn, sql, params = [])
    plan = conn.exec_params("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) #{sql}", params).getvalue(0, 0)
    top = JSON.parse(plan).first.fetch("Plan")
    top.fetch("Shared Hit Blocks") + top.fetch("Shared Read Blocks")
  end

  private

  def safe_queue(queue)
    raise ArgumentError, "bad queue name #{queue.inspect}" unless queue.match?(/\A[a-z][a-z0-9_]{0,46}\z/)

    queue
  end
end

RSpec.configure do |config|
  config.include DatabaseHelpers
  config.define_derived_metadata(file_path: %r{/spec/integration/}) { |meta| meta[:db] = true }
  config.before(:suite) do
    needs_db = RSpec.world.filtered_examples.values.flatten.any? { |example| example.metadata[:db] }
    TaskerTestDatabase.prepare! if needs_db
  end
end
