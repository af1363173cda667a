# frozen_string_literal: true

require "tasker_core/cli/command"

module TaskerCore
  class CLI
    # tasker-core web --port N
    class WebCommand < Command
      command "web", "web [--port N] [--host HOST] [--actions]", <<~TEXT
        Serves the web dashboard (TaskerCore::Web) until interrupted. It has no authentication:
        bind it to 127.0.0.1 (the default) or put it behind your own. --actions enables cancel,
        retry and resolve buttons. The forms' CSRF tokens are signed with TASKER_WEB_CSRF_SECRET
        (at least 32 bytes; set the same value on every process behind one address), else with a
        secret generated for this process.
      TEXT
      SECRET_ENV = "TASKER_WEB_CSRF_SECRET"

      def options(opts)
        @options[:port] = 9292
        @options[:host] = "127.0.0.1"
        opts.on("-p", "--port N", Integer, "Port (default 9292)") { |v| @options[:port] = v }
        opts.on("--host HOST", "Address to bind (default 127.0.0.1)") { |v| @options[:host] = v }
        opts.on("--actions", "Enable cancel, retry and resolve") { @options[:actions] = true }
      end

      def run(argv)
        arguments!(argv, 0..0, "no arguments")
        configure!(default_log_level: "info")
        web = load_web
        options = { port: @options[:port], host: @options[:host] }
        options[:actions] = true if @options[:actions]
        secret = ENV.fetch(SECRET_ENV, "")
        options[:csrf_secret] = TaskerCore::Web::Csrf.secret(secret, SECRET_ENV) unless secret.empty?
        web.run!(**options)
        0
      end

      private

      def load_web
        require "tasker_core/web"
        return TaskerCore::Web if defined?(TaskerCore::Web) && TaskerCore::Web.respond_to?(:run!)

        raise Failure, "the web dashboard is not available: TaskerCore::Web.run! is not defined"
      rescue LoadError => e
        raise Failure, "the web dashboard is not available (#{e.message}); it needs the rack gem " \
                       "(Debian: apt-get install ruby-rack)"
      end
    end
  end
end
