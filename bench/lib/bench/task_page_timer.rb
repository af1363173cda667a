# frozen_string_literal: true

require "net/http"
require "tasker_core/web"

module Bench
  # The dashboard's page of one task, as a browser gets it: the dashboard served over HTTP in
  # this process (TaskerCore::Web::Server, as spec/web/browser_spec.rb starts it), each
  # request timed `samples` times after a warm-up; and the parts of the page's work timed
  # alone. Medians, in ms.
  class TaskPageTimer
    def initialize(ctx, samples)
      @ctx = ctx
      @samples = samples
    end

    # The task page and the task's JSON over HTTP (median of @samples each, after one
    # warm-up request), TaskerCore.task_status, and the parts of the page's work timed alone.
    def measure(uuid)
      statistics = steps_statistics?
      server = TaskerCore::Web::Server.start(TaskerCore::Web.new(actions: false), host: "127.0.0.1")
      page = http_timings(server, "/tasks/#{uuid}")
      api = http_timings(server, "/api/tasks/#{uuid}")
      server.stop
      parts = page_parts(uuid)
      @ctx.log("dashboard: task page #{page["median_ms"]} ms (#{page["bytes"]} bytes), " \
               "JSON #{api["median_ms"]} ms, task_status #{parts["task_status_ms"]} ms, " \
               "graph #{parts["graph_ms"]} ms, transitions #{parts["transitions_ms"]} ms")
      { "task_page" => page, "api_task" => api, "steps_statistics" => statistics }.merge(parts)
    end

    private

    # Whether workflow_steps had column statistics (pg_stats): a new database has none until
    # autovacuum's first ANALYZE, and then the planner joins a task's steps to their readiness
    # step by step: task_status grows with the square of the task's step count.
    def steps_statistics?
      @ctx.db.with do |c|
        c.exec("SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = 'tasker' " \
               "AND tablename = 'workflow_steps' AND attname = 'task_uuid')").getvalue(0, 0) == "t"
      end
    end

    def http_timings(server, path)
      uri = URI("#{server.url}#{path}")
      bytes = 0
      samples = Net::HTTP.start(uri.host, uri.port, read_timeout: 300) do |http|
        http.get(uri.path) # warm-up
        Array.new(@samples) do
          started = Stats.monotonic
          response = http.get(uri.path)
          elapsed = (Stats.monotonic - started) * 1000
          raise "GET #{path}: #{response.code}" unless response.code == "200"

          bytes = response.body.bytesize
          elapsed
        end
      end
      { "path" => path, "median_ms" => median(samples), "samples_ms" => samples.map { |s| s.round(1) },
        "bytes" => bytes }
    end

    # What the task page does, each part timed alone (median of @samples): the status
    # (TaskerCore.task_status), the DAG's layout, the transitions query. The rest of the page's
    # time is the HTML's rendering and transfer.
    def page_parts(uuid)
      queries = TaskerCore::Web::Queries.new(TaskerCore::Web::ConnectionPool.new(database_url: @ctx.tasker.url))
      status = TaskerCore.task_status(uuid).to_h
      { "task_status_ms" => timed { TaskerCore.task_status(uuid) },
        "graph_ms" => timed { TaskerCore::Web::Dag.new(TaskerCore::StepGraph.for_drawing(status["steps"])) },
        "transitions_ms" => timed { queries.transitions(uuid) },
        "steps_in_status" => status["steps"].size }
    end

    def timed
      samples = Array.new(@samples) do
        started = Stats.monotonic
        yield
        (Stats.monotonic - started) * 1000
      end
      median(samples)
    end

    def median(samples)
      Stats.percentile(samples, 50).round(1)
    end
  end
end
