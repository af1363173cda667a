# frozen_string_literal: true

module TaskerCore
  class Web
    # The HTML pages: overview, task list, task detail, templates, schedules; and the static assets.
    module Pages
      NOTICES = {
        "cancelled" => "The task was cancelled.",
        "retried" => "The task's failed steps were sent back to run again.",
        "resolved" => "The step was resolved by hand; its dependents can run now.",
        "paused" => "Paused: no worker claims this namespace's steps until it is resumed; running steps finish.",
        "resumed" => "Resumed: the namespace's workers claim its steps again."
      }.freeze

      def overview_page(request, _params, csrf)
        page = view(request, csrf)
        notice = NOTICES[request.GET["done"].to_s] if %w[paused resumed].include?(request.GET["done"])
        paused = TaskerCore.paused_namespaces.to_h { |row| [row["namespace"], row] }
        html(200, page.page(:overview, title: "Overview", nav: :overview, overview: queries.overview,
                                       orchestrator: local_orchestrator, paused: paused,
                                       notice: notice && "#{request.GET["namespace"]}: #{notice}"))
      end

      def tasks_page(request, _params, csrf)
        filters = TaskFilters.new(request.GET)
        result = filters.valid? ? queries.tasks(filters) : { "tasks" => [], "older" => nil, "newer" => nil }
        page = view(request, csrf)
        body = page.page(:tasks, title: "Tasks", nav: :tasks, filters: filters, result: result,
                                 task_names: queries.task_names, states: TaskerCore::States::TASK)
        html(filters.valid? ? 200 : 400, body)
      end

      # A task: its facts, DAG, steps and history. A fan_out's instances beyond
      # StepGraph::COLLAPSE_ABOVE are one summary row each template, and a page of them on
      # request (InstancePage), so the page's cost follows what it shows, not the task's size.
      def task_page(request, params, csrf)
        uuid = params.fetch("uuid")
        return not_found(request, "#{uuid} is not a task uuid.") unless task_uuid?(uuid)

        instances = InstancePage.new(request.GET)
        return error_response(request, 400, "Bad request", instances.error) unless instances.valid?

        status = queries.task_page(uuid, instances)
        steps = TaskSteps.new(status)
        if instances.template && !steps.templates.include?(instances.template)
          return not_found(request, "Task #{uuid} has no instances of a step named #{instances.template}.")
        end

        html(200, task_body(request, csrf, status, steps, instances))
      end

      def templates_page(request, _params, csrf)
        templates = sorted_templates
        page = view(request, csrf)
        dags = templates.map { |template| Dag.new(Array(template.dig("template", "steps"))) }
        html(200, page.page(:templates, title: "Templates", nav: :templates, templates: templates, dags: dags))
      end

      # Recurring schedules with their next fire times, and the tasks waiting for their run_at.
      def schedules_page(request, _params, csrf)
        page = view(request, csrf)
        html(200, page.page(:schedules, title: "Schedules", nav: :schedules, schedules: TaskerCore.schedules,
                                        scheduled: queries.scheduled_tasks))
      end

      def asset(request, params, _csrf)
        file = params.fetch("file")
        type = ASSET_TYPES[file] or return not_found(request)

        body = File.read(File.join(ASSETS, file))
        [200, { "content-type" => type, "cache-control" => "public, max-age=300", "x-content-type-options" => "nosniff",
                "content-length" => body.bytesize.to_s }, [body]]
      end

      private

      def task_body(request, csrf, status, steps, instances)
        uuid = status["task_uuid"]
        named = request.GET["step"]
        step = named if named.is_a?(String) && steps.rows.any? { |row| row.kind == :step && row.item["name"] == named }
        view(request, csrf).page(:task, title: "#{status["namespace"]}/#{status["name"]} #{uuid[0, 8]}", nav: :tasks,
                                        task: status, steps: steps, instances: instances,
                                        dag: Dag.new(steps.for_drawing), transitions: queries.transitions(uuid),
                                        notice: NOTICES[request.GET["done"].to_s], notice_step: step)
      end

      def sorted_templates
        TaskerCore.templates.sort_by do |template|
          [template["namespace"].to_s, template["name"].to_s, template["version"].to_s]
        end
      end

      # The orchestrator of this very process, if it runs one (its counters live in memory).
      def local_orchestrator
        TaskerCore::Orchestrator.running? ? TaskerCore::Orchestrator.status : nil
      rescue StandardError
        nil
      end
    end
  end
end
