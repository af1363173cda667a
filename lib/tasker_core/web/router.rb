# frozen_string_literal: true

require "rack/utils"

module TaskerCore
  class Web
    # The dashboard's routes: [method, pattern, handler]. Path segments are unescaped after
    # matching, so a step name may hold any character that is valid UTF-8.
    module Router
      SEGMENT = "(?<%s>[^/]+)"
      ROUTES = [
        ["GET", "/", :overview_page],
        ["GET", "/tasks", :tasks_page],
        ["GET", "/tasks/:uuid", :task_page],
        ["GET", "/templates", :templates_page],
        ["GET", "/schedules", :schedules_page],
        ["POST", "/tasks/:uuid/cancel", :cancel_action],
        ["POST", "/tasks/:uuid/retry", :retry_action],
        ["POST", "/tasks/:uuid/steps/:step/resolve", :resolve_action],
        ["POST", "/namespaces/:name/pause", :pause_action],
        ["POST", "/namespaces/:name/resume", :resume_action],
        ["GET", "/api/overview", :api_overview],
        ["GET", "/api/tasks", :api_tasks],
        ["GET", "/api/tasks/:uuid", :api_task],
        ["GET", "/api/templates", :api_templates],
        ["GET", "/health", :health],
        ["GET", "/metrics", :metrics],
        ["GET", "/assets/:file", :asset]
      ].map do |method, path, handler|
        pattern = path.gsub(/:(\w+)/) { format(SEGMENT, Regexp.last_match(1)) }
        [method, Regexp.new("\\A#{pattern.chomp("/")}/?\\z"), handler]
      end.freeze

      module_function

      # [handler, params], [:method_not_allowed, nil] or nil.
      def match(method, path)
        path = "/" if path.nil? || path.empty?
        allowed = false
        ROUTES.each do |route_method, pattern, handler|
          found = pattern.match(path) or next
          allowed = true
          next unless route_method == method

          params = found.named_captures.transform_values { |value| Rack::Utils.unescape_path(value) }
          # A segment that is not UTF-8 names nothing the dashboard has: no such page.
          return params.each_value.all?(&:valid_encoding?) ? [handler, params] : nil
        end
        allowed ? [:method_not_allowed, nil] : nil
      end

      def allowed(path)
        ROUTES.select { |_, pattern, _| pattern.match?(path) }.map(&:first).uniq
      end
    end
  end
end
