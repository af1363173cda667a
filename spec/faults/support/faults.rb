# frozen_string_literal: true

require "open3"
require "timeout"
require_relative "fault_cluster"
require_relative "fault_handlers"
require_relative "fault_report"

# Helpers of the fault suite: its own database, real processes, and an audit of what ran.
module FaultHelpers
  ROOT = File.expand_path("../../..", __dir__)

  # Points TaskerCore at the fault cluster for the block (fresh tables, the fault workflow
  # registered), then back at the test database.
  def with_fault_database
    FaultCluster.start!
    TaskerCore::Orchestrator.stop(timeout: 10) if TaskerCore::Orchestrator.running?
    saved = TaskerCore.configuration.dup
    TaskerCore.configure do |c|
      c.database_url = FaultCluster.url
      c.sweep_interval = 1.0
      c.claim_grace_seconds = 5.0
    end
    TaskerCore.migrate!
    reset_fault_tables!
    TaskerCore.register_templates!([FaultWorkflow::TEMPLATE, FaultWorkflow::FAN_OUT_TEMPLATE])
    yield
  ensure
    TaskerCore::Orchestrator.stop(timeout: 10) if TaskerCore::Orchestrator.running?
    TaskerCore.instance_variable_set(:@configuration, saved) if saved
  end

  def fault_sql(sql, params = [])
    conn = PG.connect(FaultCluster.url, options: "-c client_min_messages=warning")
    conn.exec_params(sql, params).to_a
  ensure
    conn&.close
  end

  # The same, across a server restart: the test observes, it must not fail because of it.
  def fault_sql_retrying(sql, params = [], attempts: 100)
    fault_sql(sql, params)
  rescue PG::ConnectionBad, PG::UnableToSend, PG::AdminShutdown, PG::CannotConnectNow
    attempts -= 1
    raise if attempts.zero?

    sleep 0.2
    retry
  end

  def reset_fault_tables!
    fault_sql("CREATE TABLE IF NOT EXISTS public.fault_effects (id bigserial PRIMARY KEY, step_uuid uuid NOT NULL,
                 attempt integer NOT NULL, pid integer NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())")
    fault_sql("TRUNCATE public.fault_effects, tasker.step_transitions, tasker.task_transitions,
               tasker.workflow_step_edges, tasker.workflow_steps, tasker.tasks, tasker.named_tasks,
               tasker.namespaces RESTART IDENTITY CASCADE")
    fault_sql("SELECT pgmq.purge_queue(queue_name) FROM pgmq.meta")
    fault_sql("SELECT queue_name FROM pgmq.meta").each do |row|
      queue = row["queue_name"]
      fault_sql("TRUNCATE pgmq.a_#{queue}") if queue.match?(/\A[a-z][a-z0-9_]{0,46}\z/)
    end
  end

  # Starts spec/faults/bin/<kind>.rb and waits for its "ready" line. Returns the pid.
  def spawn_fault_process(kind, env = {})
    env = { "DATABASE_URL" => FaultCluster.url, "NAMESPACES" => "faults", "CONCURRENCY" => "2" }.merge(env)
    stdin, out, thread = Open3.popen2e(env, RbConfig.ruby, File.join(ROOT, "spec/faults/bin/#{kind}.rb"),
                                       chdir: ROOT)
    stdin.close
    line = Timeout.timeout(20) { out.gets }
    unless line&.start_with?("ready")
      raise "#{kind} process did not start: #{line.inspect} #{out.read_nonblock(10_000,
                                                                                exception: false)}"
    end

    Thread.new { out.each_line { |l| warn("[#{kind} #{thread.pid}] #{l}") if ENV["FAULT_VERBOSE"] } }
    (@fault_processes ||= []) << thread
    thread.pid
  end

  def kill9(pid)
    Process.kill(:KILL, pid)
    @fault_processes&.find { |t| t.pid == pid }&.join(5)
  end

  def fault_process_alive?(pid)
    @fault_processes&.find { |t| t.pid == pid }&.alive? || false
  end

  # Signals every process before waiting for any, so that they all shut down at once.
  def stop_fault_processes
    terminate_fault_processes
    (@fault_processes || []).each { |t| t.join(10) || Process.kill(:KILL, t.pid) }
    @fault_processes = []
  end

  def terminate_fault_processes
    (@fault_processes || []).each do |t|
      Process.kill(:TERM, t.pid) if t.alive?
    rescue Errno::ESRCH
      nil
    end
  end

  def create_fault_tasks(count, context = {})
    Array.new(count) do
      TaskerCore.create_task(namespace: "faults", name: "diamond", version: "1", context: context).uuid
    end
  end

  def count_finished(uuids)
    sql = "SELECT count(*) FROM tasker.tasks WHERE task_uuid = ANY($1::uuid[]) AND state <> 'in_progress'"
    Integer(fault_sql_retrying(sql, [PG::TextEncoder::Array.new.encode(uuids)]).first["count"])
  end

  # Polls the database until at least `count` of the tasks have finished.
  def wait_for_some(uuids, count, timeout:)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    until count_finished(uuids) >= count
      raise "fewer than #{count} of #{uuids.size} tasks finished in #{timeout}s" if
        Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.05
    end
  end

  # Polls the database (the test's own observation, not the product's hot path) until every
  # task has finished; returns the seconds it took.
  def wait_for_all(uuids, timeout:)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    loop do
      return Process.clock_gettime(Process::CLOCK_MONOTONIC) - started if count_finished(uuids) == uuids.size
      raise "only #{count_finished(uuids)} of #{uuids.size} tasks finished in #{timeout}s" if
        Process.clock_gettime(Process::CLOCK_MONOTONIC) - started > timeout

      sleep 0.2
    end
  end

  # What happened to every step of the tasks: completions, enqueues and side effects.
  def audit(uuids, killed_pids: [])
    encoded = PG::TextEncoder::Array.new.encode(uuids)
    steps = fault_sql(<<~SQL, [encoded])
      SELECT s.step_uuid, s.name, s.state, s.results::text AS results, s.attempts, t.state AS task_state,
             (SELECT count(*) FROM tasker.step_transitions x WHERE x.step_uuid = s.step_uuid
                AND x.to_state = 'complete') AS completions,
             (SELECT count(*) FROM tasker.step_transitions x WHERE x.step_uuid = s.step_uuid
                AND x.from_state = 'pending' AND x.to_state = 'enqueued') AS first_enqueues,
             (SELECT coalesce(array_agg(e.pid ORDER BY e.id), '{}') FROM public.fault_effects e
               WHERE e.step_uuid = s.step_uuid) AS effect_pids
        FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid)
       WHERE s.task_uuid = ANY($1::uuid[])
    SQL
    summarize(uuids, steps, killed_pids)
  end

  private

  def summarize(uuids, steps, killed_pids)
    decoder = PG::TextDecoder::Array.new
    incomplete = steps.reject { |s| s["task_state"] == "complete" }.size / FaultWorkflow::TEMPLATE["steps"].size
    {
      tasks: uuids.size,
      completed: uuids.size - incomplete,
      wrong_results: steps.count { |s| wrong_result?(s) },
      double_completions: steps.count { |s| Integer(s["completions"]) > 1 },
      double_enqueues: steps.count { |s| Integer(s["first_enqueues"]) > 1 },
      steps_without_effect: steps.count { |s| s["state"] == "complete" && decoder.decode(s["effect_pids"]).empty? },
      **rerun_counts(steps, killed_pids, decoder)
    }
  end

  def wrong_result?(step)
    step["state"] == "complete" && Integer(step["results"]) != FaultWorkflow::EXPECTED[step["name"]]
  end

  # Handler runs beyond the one that produced each step's result, and those of them that no
  # killed worker explains.
  def rerun_counts(steps, killed_pids, decoder)
    extra = steps.flat_map do |s|
      decoder.decode(s["effect_pids"]).map(&:to_i)[0...-1] # every effect but the one that produced the result
    end
    { reruns: extra.size, unexplained_reruns: extra.count { |pid| !killed_pids.include?(pid) } }
  end
end

RSpec.configure do |config|
  config.include FaultHelpers, file_path: %r{/spec/faults/}
  config.after(:each, file_path: %r{/spec/faults/}) { stop_fault_processes }
end
