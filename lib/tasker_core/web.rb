# frozen_string_literal: true

require "json"
require "logger"
begin
  require "rack"
  require "erubi"
rescue LoadError => e
  raise LoadError, "the tasker-core dashboard needs the rack and erubi gems " \
                   "(Debian: apt-get install ruby-rack ruby-erubi): #{e.message}"
end

require "tasker_core"
require "tasker_core/types/base"
require "tasker_core/web/connection_pool"
require "tasker_core/web/queries"
require "tasker_core/web/task_filters"
require "tasker_core/web/dag"
require "tasker_core/web/instance_page"
require "tasker_core/web/task_steps"
require "tasker_core/web/csrf"
require "tasker_core/web/input_check"
require "tasker_core/web/view"
require "tasker_core/web/router"
require "tasker_core/web/pages"
require "tasker_core/web/api"
require "tasker_core/web/controls"
require "tasker_core/web/server"

module TaskerCore
  # The dashboard: a Rack application. Mount it (`mount TaskerCore::Web => "/tasker"`), or
  # run it alone (`TaskerCore::Web.run!(port: 9292)`). Read-only unless actions are enabled
  # (`TaskerCore::Web.actions_enabled = true`, or `TaskerCore::Web.new(actions: true)`);
  # authentication is the host's job (see docs/dashboard.md).
  class Web
    include Pages
    include Api
    include Controls

    ASSETS = File.expand_path("web/assets", __dir__)
    ASSET_TYPES = { "app.js" => "text/javascript; charset=utf-8", "app.css" => "text/css; charset=utf-8" }.freeze
    HTML_HEADERS = {
      "content-type" => "text/html; charset=utf-8",
      "cache-control" => "no-store",
      "content-security-policy" => "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
                                   "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
      "x-content-type-options" => "nosniff",
      "x-frame-options" => "DENY",
      "referrer-policy" => "same-origin"
    }.freeze

    class << self
      # Class-wide settings, read at each request by instances that did not override them.
      attr_writer :actions_enabled
      # ->(env) { "who" }: names the operator for the audit trail (see #actor_for).
      attr_accessor :current_actor
      attr_writer :poll_interval
      # Signs the standalone dashboard's CSRF tokens (see Csrf); nil: one secret per process.
      attr_reader :csrf_secret

      def csrf_secret=(value)
        @csrf_secret = value.nil? ? nil : Csrf.secret(value, "TaskerCore::Web.csrf_secret")
      end

      def actions_enabled
        @actions_enabled == true
      end

      def poll_interval
        @poll_interval || 2.0
      end

      # `mount TaskerCore::Web => "/tasker"` calls the class: one shared instance serves it.
      def call(env)
        default_app.call(env)
      end

      def default_app
        @default_app || DEFAULT_LOCK.synchronize { @default_app ||= new }
      end

      # Serves the dashboard until interrupted (Puma if installed, else WEBrick).
      def run!(port: 9292, host: "127.0.0.1", **options)
        Server.run!(new(**options), port: port, host: host)
      end
    end
    DEFAULT_LOCK = Mutex.new

    # actions: true/false overrides TaskerCore::Web.actions_enabled; current_actor: a proc as
    # above; database_url: for the dashboard's own read queries (default: the configuration's);
    # csrf_secret: overrides TaskerCore::Web.csrf_secret.
    def initialize(actions: nil, current_actor: nil, poll_interval: nil, database_url: nil, pool_size: 4,
                   csrf_secret: nil)
      @csrf_secret = csrf_secret.nil? ? nil : Csrf.secret(csrf_secret, "csrf_secret")
      @actions = actions
      @current_actor = current_actor
      @poll_interval = poll_interval
      @database_url = database_url
      @pool_size = pool_size
      @lock = Mutex.new
    end

    def actions_enabled?
      @actions.nil? ? self.class.actions_enabled : @actions == true
    end

    def call(env)
      request = Rack::Request.new(env)
      head = request.request_method == "HEAD"
      env["REQUEST_METHOD"] = "GET" if head
      response = dispatch(request)
      head ? [response[0], response[1], []] : response
    end

    def queries
      @queries || @lock.synchronize do
        @queries ||= begin
          url = @database_url || TaskerCore.configuration.read_url
          Queries.new(ConnectionPool.new(database_url: url, size: @pool_size))
        end
      end
    end

    # Who is acting, for the audit trail: the current_actor proc if one is set, else
    # env["tasker_core.user"], the Warden user, or REMOTE_USER (Rack::Auth::Basic);
    # "anonymous" when the host app says nothing.
    def actor_for(env)
      resolver = @current_actor || self.class.current_actor
      user = resolver ? resolver.call(env) : nil
      user ||= env["tasker_core.user"]
      user ||= warden_user(env)
      user ||= env["REMOTE_USER"]
      name = describe_user(user).to_s.strip
      name.empty? ? "anonymous" : name[0, 200]
    end

    private

    def dispatch(request)
      route, params = Router.match(request.request_method, request.path_info)
      return not_found(request) unless route
      return method_not_allowed(request, route) if route == :method_not_allowed

      problem = InputCheck.problem(request)
      return error_response(request, 400, "Bad request", problem) if problem

      csrf = Csrf.new(request, secret: Csrf.secret(@csrf_secret || self.class.csrf_secret, "csrf_secret"))
      response = public_send(route, request, params, csrf)
      csrf.commit(response[1])
      response
    rescue StandardError => e
      failure(request, e)
    end

    def task_uuid?(value)
      value.is_a?(String) && value.match?(TaskerCore::Types::UUID_FORMAT)
    end

    def warden_user(env)
      warden = env["warden"]
      warden.user if warden.respond_to?(:user)
    end

    def describe_user(user)
      return user if user.nil? || user.is_a?(String)

      %i[email login username name].each do |attribute|
        value = user.public_send(attribute) if user.respond_to?(attribute)
        return value.to_s if value && !value.to_s.empty?
      end
      user.respond_to?(:id) ? "#{user.class.name}##{user.id}" : user.to_s
    end

    def view(request, csrf)
      View.new(script_name: request.script_name, csrf: csrf, actions_enabled: actions_enabled?,
               poll_interval: @poll_interval || self.class.poll_interval)
    end

    def html(status, body, headers = {})
      [status, HTML_HEADERS.merge(headers), [body.to_s]]
    end

    def json(status, value)
      body = JSON.generate(value)
      [status, { "content-type" => "application/json; charset=utf-8", "cache-control" => "no-store",
                 "x-content-type-options" => "nosniff" }, [body]]
    end

    def redirect(request, path)
      [303, { "location" => "#{request.script_name}#{path}", "cache-control" => "no-store",
              "content-type" => "text/plain; charset=utf-8" }, ["See #{path}"]]
    end

    def api_request?(request)
      request.path_info.start_with?("/api/") || request.path_info == "/health"
    end

    def error_response(request, status, title, message)
      if api_request?(request)
        json(status, "error" => message)
      else
        page = View.new(script_name: request.script_name, csrf: nil, actions_enabled: actions_enabled?,
                        poll_interval: 0)
        html(status, page.page(:error, title: title, status: status, message: message))
      end
    end

    def not_found(request, message = nil)
      error_response(request, 404, "Not found", message || "There is no page at #{request.path_info}.")
    end

    def method_not_allowed(request, _route)
      status, headers, body = error_response(request, 405, "Method not allowed",
                                             "#{request.request_method} is not allowed on #{request.path_info}.")
      [status, headers.merge("allow" => Router.allowed(request.path_info).join(", ")), body]
    end

    def failure(request, error)
      case error
      when TaskerCore::NotFoundError
        not_found(request, error.message)
      when TaskerCore::ArgumentError
        error_response(request, 409, "Not possible", error.message)
      when PG::Error, TaskerCore::DatabaseError
        TaskerCore.logger.error("tasker-core web: database error: #{error.class}: #{error.message.strip}")
        error_response(request, 503, "Database unavailable",
                       "The database did not answer (#{error.class.name.split("::").last}). Try again shortly.")
      else
        TaskerCore.logger.error("tasker-core web: #{error.class}: #{error.message}\n" \
                                "#{Array(error.backtrace).first(10).join("\n")}")
        error_response(request, 500, "Internal error", "#{error.class}: #{error.message}")
      end
    end
  end
end

TaskerCore::Web::View.compile!
