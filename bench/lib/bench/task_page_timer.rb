# frozen_string_literal: true

require "net/http"
require "tasker_core/web"

module Bench
  # The dashboard's page of one task, as a browser gets it: the dashboard served over HTTP in
  # this process (TaskerCore::Web::Server, as spec/web/browser_spec.rb starts it), each
  # request timed `samples` times after a warm-up; and the parts of the page's work timed
  # alone. Medians, in ms. A fan_out's instances are one summary row on the task page; a page
  # of them (InstancePage::PAGE_SIZE, the middle page of the first collapsed template) is
  # timed too, and the page's polling (the collapsed JSON) next to the complete JSON.
  class TaskPageTimer
    def initialize(ctx, samples)
      @ctx = ctx
      @samples = samples
    end

    # The task page, a page of its instances, the task's JSON (complete, and collapsed as the
    # page polls it) over HTTP (median of @samples each, after one warm-up request),
    # TaskerCore.task_status, and the parts of the page's work timed alone.
    def measure(uuid)
      statistics = steps_statistics?
      server = TaskerCore::Web::Server.start(TaskerCore::Web.new(actions: false), host: "127.0.0.1")
      page = http_timings(server, "/tasks/#{uuid}")
      paged = instances_path(uuid)
      instances = paged && http_timings(server, paged)
      api = http_timings(server, "/api/tasks/#{uuid}")
      poll = http_timings(server, "/api/tasks/#{uuid}?collapsed=1")
      server.stop
      parts = page_parts(uuid)
      @ctx.log("dashboard: task page #{page["median_ms"]} ms (#{page["bytes"]} bytes), " \
               "instances page #{instances&.fetch("median_ms")} ms, JSON #{api["median_ms"]} ms, " \
               "task_status #{parts["task_status_ms"]} ms, collapsed #{parts["task_page_status_ms"]} ms, " \
               "graph #{parts["graph_ms"]} ms, transitions #{parts["transitions_ms"]} ms")
      { "task_page" => page, "instances_page" => instances, "api_task" => api, "api_task_collapsed" => poll,
        "steps_statistics" => statistics }.merge(parts)
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

    # The middle page of the first collapsed template's instances, or nil (none collapsed).
    def instances_path(uuid)
      group = Array(collapsed_status(uuid)["instance_groups"]).first or return nil

      pages = TaskerCore::Web::InstancePage.new({}).pages(group["instances"])
      "/tasks/#{uuid}?instances=#{group["template"]}&page=#{(pages + 1) / 2}"
    end

    def http_timings(server, path)
      uri = URI("#{server.url}#{path}")
      bytes = 0
      samples = Net::HTTP.start(uri.host, uri.port, read_timeout: 300) do |http|
        http.get(uri.request_uri) # warm-up
        Array.new(@samples) do
          started = Stats.monotonic
          response = http.get(uri.request_uri)
          elapsed = (Stats.monotonic - started) * 1000
          raise "GET #{path}: #{response.code}" unless response.code == "200"

          bytes = response.body.bytesize
          elapsed
        end
      end
      { "path" => path, "median_ms" => median(samples), "samples_ms" => samples.map { |s| s.round(1) },
        "bytes" => bytes }
    end

    # What the task page does, each part timed alone (median of @samples): its status (the
    # collapsed form, StatusQueries#task_page), the DAG's layout, the transitions query; and
    # TaskerCore.task_status (the complete status, what /api/tasks/:uuid returns). The rest of
    # the page's time is the HTML's rendering and transfer.
    def page_parts(uuid)
      status = TaskerCore.task_status(uuid).to_h
      collapsed = collapsed_status(uuid)
      { "task_status_ms" => timed { TaskerCore.task_status(uuid) },
        "task_page_status_ms" => timed { collapsed_status(uuid) },
        "graph_ms" => timed { TaskerCore::Web::Dag.new(TaskerCore::Web::TaskSteps.new(collapsed).for_drawing) },
        "transitions_ms" => timed { queries.transitions(uuid) },
        "steps_in_status" => status["steps"].size, "steps_on_page" => collapsed["steps"].size }
    end

    def collapsed_status(uuid)
      queries.task_page(uuid, TaskerCore::Web::InstancePage.new({}))
    end

    def queries
      @queries ||= TaskerCore::Web::Queries.new(TaskerCore::Web::ConnectionPool.new(database_url: @ctx.tasker.url))
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
