# frozen_string_literal: true

# delayed_job with its ActiveRecord backend, standalone (no Rails): the connection, the
# delayed_jobs table (the columns of delayed_job's own migration) and the chain job. Loaded by
# the bench (to enqueue) and by bench/peers/delayed_job_worker.rb (to work).

require "logger"
require "active_record"
require "delayed_job"
require "delayed_job_active_record"

module BenchDelayedJob
  module_function

  def connect(url, pool: 5)
    ActiveRecord::Base.logger = nil
    ActiveRecord::Base.establish_connection(url: url, pool: pool)
    Delayed::Worker.logger = Logger.new(nil)
    Delayed::Worker.backend = :active_record
    Delayed::Worker.destroy_failed_jobs = false
    Delayed::Worker.max_attempts = 1
  end

  def create_schema!
    conn = ActiveRecord::Base.connection
    conn.execute(<<~SQL)
      CREATE TABLE IF NOT EXISTS delayed_jobs (
        id bigserial PRIMARY KEY,
        priority integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        handler text NOT NULL,
        last_error text,
        run_at timestamp,
        locked_at timestamp,
        failed_at timestamp,
        locked_by character varying,
        queue character varying,
        created_at timestamp(6),
        updated_at timestamp(6)
      )
    SQL
    conn.execute("CREATE INDEX IF NOT EXISTS delayed_jobs_priority ON delayed_jobs (priority, run_at)")
    conn.execute("CREATE TABLE IF NOT EXISTS bench_chain_done (chain integer NOT NULL, done_at timestamptz NOT NULL)")
  end

  def reset!
    ActiveRecord::Base.connection.execute("TRUNCATE delayed_jobs, bench_chain_done")
    ActiveRecord::Base.connection.execute("VACUUM ANALYZE delayed_jobs")
  end
end

# One link of a chain: runs, then enqueues the next link; the last one records the chain's
# completion (a row, and a notification for whoever waits on it).
ChainJob = Struct.new(:chain_id, :step, :steps) do
  def perform
    if step < steps
      Delayed::Job.enqueue(ChainJob.new(chain_id, step + 1, steps))
    else
      ActiveRecord::Base.connection.execute(
        "INSERT INTO bench_chain_done (chain, done_at) VALUES (#{Integer(chain_id)}, clock_timestamp()); " \
        "SELECT pg_notify('bench_chain_done', '#{Integer(chain_id)} ' || extract(epoch FROM clock_timestamp()))"
      )
    end
  end
end
