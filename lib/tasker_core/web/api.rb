# frozen_string_literal: true

module TaskerCore
  class Web
    # The JSON API, for scripts and monitors: the same data as the pages.
    #   GET /api/overview          what the overview shows
    #   GET /api/tasks             the task list (same filters as /tasks), with page cursors
    #   GET /api/tasks/:uuid       TaskerCore.task_status plus the transition history; with
    #                              ?collapsed=1 (what the task page polls) or ?instances=,
    #                              the task page's collapsed form (InstancePage's parameters)
    #   GET /api/templates         registered templates, each with its steps' dependencies
    #   GET /health                200 {"status":"ok"} when the database answers, else 503
    #   GET /metrics               TaskerCore.metrics for Prometheus (text format)
    module Api
      def api_overview(_request, _params, _csrf)
        json(200, queries.overview.merge("orchestrator_in_this_process" => local_orchestrator))
      end

      def api_tasks(request, _params, _csrf)
        filters = TaskFilters.new(request.GET)
        return json(400, "error" => filters.errors.join("; ")) unless filters.valid?

        result = queries.tasks(filters)
        json(200, "tasks" => result["tasks"],
                  "page" => { "limit" => filters.limit, "older" => result["older"], "newer" => result["newer"],
                              "older_url" => page_url(request, filters, "older", result["older"]),
                              "newer_url" => page_url(request, filters, "newer", result["newer"]) })
      end

      def api_task(request, params, _csrf)
        uuid = params.fetch("uuid")
        return json(404, "error" => "#{uuid} is not a task uuid") unless task_uuid?(uuid)

        status = if request.GET.key?("collapsed") || request.GET.key?("instances")
                   instances = InstancePage.new(request.GET)
                   return json(400, "error" => instances.error) unless instances.valid?

                   queries.task_page(uuid, instances)
                 else
                   TaskerCore.task_status(uuid).to_h
                 end
        json(200, status.merge("transitions" => queries.transitions(uuid),
                               "html_url" => "#{request.script_name}/tasks/#{uuid}"))
      end

      def api_templates(_request, _params, _csrf)
        templates = sorted_templates.map do |template|
          steps = Array(template.dig("template", "steps")).map do |step|
            { "name" => step["name"], "handler" => step["handler"], "depends_on" => Array(step["depends_on"]) }
          end
          template.merge("steps" => steps)
        end
        json(200, "templates" => templates)
      end

      # Prometheus scrapes this: TaskerCore.metrics in the text format.
      def metrics(_request, _params, _csrf)
        body = TaskerCore::Metrics::Prometheus.render(queries.metrics)
        [200, { "content-type" => TaskerCore::Metrics::Prometheus::CONTENT_TYPE, "cache-control" => "no-store",
                "x-content-type-options" => "nosniff" }, [body]]
      end

      def health(_request, _params, _csrf)
        queries.ping
        json(200, "status" => "ok")
      rescue PG::Error, TaskerCore::DatabaseError => e
        TaskerCore.logger.warn("tasker-core web: health check failed: #{e.class}: #{e.message.strip}")
        json(503, "status" => "unavailable", "database" => "unreachable")
      end

      private

      def page_url(request, filters, key, cursor)
        return nil unless cursor

        "#{request.script_name}/api/tasks?#{Rack::Utils.build_query(filters.to_params.merge(key => cursor))}"
      end
    end
  end
end
