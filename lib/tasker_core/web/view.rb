# frozen_string_literal: true

require "erubi"
require "json"
require "time"
require "rack/utils"
require "cgi"
require "erb"

module TaskerCore
  class Web
    # HTML that helpers built and already escaped; `h` passes it through unchanged.
    class SafeString < String
      def to_s
        self
      end
    end

    # Renders the ERB templates in views/. Every `<%= %>` goes through #h, which escapes
    # anything that is not a SafeString; templates never use the raw `<%== %>` form.
    # One View per request: it knows the mount path, the CSRF token and whether actions are on.
    class View
      VIEWS = File.expand_path("views", __dir__)
      STATES = (TaskerCore::States::TASK + TaskerCore::States::STEP).uniq.freeze
      JSON_LIMIT = 20_000

      def self.compile!
        Dir[File.join(VIEWS, "*.erb")].each do |path|
          name = File.basename(path, ".erb")
          engine = Erubi::Engine.new(File.read(path, encoding: "UTF-8"), escape: true, escapefunc: "h",
                                                                         bufvar: "@_out", freeze: true)
          # The template's own file and lines, so errors point into the .erb.
          class_eval("def render_#{name}\n#{engine.src}\nend", path, 0) # rubocop:disable Style/EvalWithLocation
        end
      end

      attr_reader :script_name, :title

      # csrf: a Csrf (asked for its token only when a form needs it, so a read-only page
      # creates no session and sets no cookie), or nil on pages without forms.
      def initialize(script_name:, csrf:, actions_enabled:, poll_interval:)
        @script_name = script_name.to_s.chomp("/")
        @csrf = csrf
        @actions_enabled = actions_enabled
        @poll_interval = poll_interval
      end

      def actions_enabled?
        @actions_enabled
      end

      # The page `template` inside the layout; locals become instance variables.
      def page(template, title:, nav: nil, **locals)
        @title = title
        @nav = nav
        @body = render(template, **locals)
        render(:layout)
      end

      def render(template, **locals)
        locals.each { |key, value| instance_variable_set(:"@#{key}", value) }
        saved = @_out
        SafeString.new(public_send(:"render_#{template}"))
      ensure
        @_out = saved
      end

      # --- helpers used by the templates --------------------------------------------------------

      def h(value)
        return value if value.is_a?(SafeString)

        CGI.escapeHTML(value.to_s)
      end

      def raw_html(text)
        SafeString.new(text)
      end

      # A link inside the dashboard: the mount path + path + query string.
      def url(path, params = {})
        query = params.reject { |_, value| value.nil? || value.to_s.empty? }
        "#{script_name}#{path}#{query.empty? ? "" : "?#{Rack::Utils.build_query(query)}"}"
      end

      def task_path(uuid, suffix = "")
        "/tasks/#{ERB::Util.url_encode(uuid.to_s)}#{suffix}"
      end

      def step_action_path(uuid, step_name)
        task_path(uuid, "/steps/#{ERB::Util.url_encode(step_name.to_s)}/resolve")
      end

      def state_class(state)
        STATES.include?(state.to_s) ? "state-#{state.to_s.tr("_", "-")}" : "state-unknown"
      end

      def badge(state)
        raw_html(%(<span class="badge #{state_class(state)}">#{h(state.to_s.tr("_", " "))}</span>))
      end

      # A task state that never moves again on its own.
      def finished?(state)
        TaskerCore::States::TASK_FINISHED.include?(state.to_s)
      end

      # The finished task states, for app.js (which stops following a task that reached one).
      def finished_states
        TaskerCore::States::TASK_FINISHED.join(" ")
      end

      def time_tag(iso)
        return raw_html(%(<span class="muted">—</span>)) if iso.nil? || iso.to_s.empty?

        time = Time.iso8601(iso.to_s).utc
        text = time.strftime("%Y-%m-%d %H:%M:%S UTC")
        raw_html(%(<time datetime="#{h(time.iso8601(3))}" title="#{h(text)}">#{h(text)}</time>))
      rescue ::ArgumentError
        h(iso)
      end

      def ago(iso, now: Time.now.utc)
        return "" if iso.nil? || iso.to_s.empty?

        seconds = now - Time.iso8601(iso.to_s)
        seconds.negative? ? "in #{duration(-seconds * 1000)}" : "#{duration(seconds * 1000)} ago"
      rescue ::ArgumentError
        ""
      end

      def duration(milliseconds)
        return "—" if milliseconds.nil?

        ms = milliseconds.to_f
        return "#{ms.round} ms" if ms < 1000
        return "#{(ms / 1000).round(1)} s" if ms < 60_000
        return "#{(ms / 60_000).floor} min #{((ms % 60_000) / 1000).round} s" if ms < 3_600_000

        "#{(ms / 3_600_000).floor} h #{((ms % 3_600_000) / 60_000).round} min"
      end

      def step_duration(step)
        started = step["started_at"]
        return nil unless started

        finish = step["completed_at"] ? Time.iso8601(step["completed_at"]) : Time.now.utc
        (finish - Time.iso8601(started)) * 1000
      end

      # Pretty JSON, cut at JSON_LIMIT characters (the JSON API has the whole value).
      def pretty_json(value)
        text = JSON.pretty_generate(value)
        return text if text.length <= JSON_LIMIT

        "#{text[0, JSON_LIMIT]}\n… (#{text.length - JSON_LIMIT} more characters: see the JSON API)"
      rescue JSON::GeneratorError
        value.inspect
      end

      def short_uuid(uuid)
        uuid.to_s[0, 8]
      end

      def csrf_token
        @csrf&.token
      end

      def csrf_field
        raw_html(%(<input type="hidden" name="#{Csrf::FIELD}" value="#{h(csrf_token)}">))
      end

      def nav_class(name)
        @nav == name ? "active" : nil
      end

      def poll_interval_ms
        (@poll_interval.to_f * 1000).round
      end

      def dag_svg(dag, link_steps: false)
        render(:_dag, dag: dag, link_steps: link_steps)
      end
    end
  end
end
