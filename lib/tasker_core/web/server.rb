# frozen_string_literal: true

require "socket"
require "stringio"

module TaskerCore
  class Web
    # Serving the dashboard without a host app: Puma when it is installed, else WEBrick.
    #   Server.run!(app, port:, host:)   in the foreground until INT or TERM (tasker-core web)
    #   Server.start(app, port:, host:)  in background threads; returns a handle with #port, #url, #stop
    module Server
      LOOPBACK = %w[127.0.0.1 ::1 localhost].freeze

      # A server running in this process's background threads.
      class Handle
        attr_reader :port, :host

        def initialize(host, port, stopper)
          @host = host
          @port = port
          @stopper = stopper
        end

        def url
          "http://#{host.include?(":") ? "[#{host}]" : host}:#{port}"
        end

        def stop
          @stopper&.call
          @stopper = nil
        end
      end

      module_function

      def run!(app, port:, host: "127.0.0.1", out: $stdout)
        warn_if_exposed(app, host, out)
        handle = start(app, port: port, host: host)
        mode = app.actions_enabled? ? "actions enabled" : "read-only"
        out.puts "tasker-core dashboard on #{handle.url}/ (#{mode}, #{puma? ? "Puma" : "WEBrick"}); Ctrl-C stops it"
        wait_for_signal
        out.puts "tasker-core dashboard: stopping"
        handle.stop
      end

      # Port 0 picks a free port.
      def start(app, port: 0, host: "127.0.0.1")
        puma? ? start_puma(app, host, Integer(port)) : start_webrick(app, host, Integer(port))
      end

      def puma?
        require "puma"
        require "puma/server"
        true
      rescue LoadError
        false
      end

      def start_puma(app, host, port)
        require "puma/events"
        server = Puma::Server.new(app, Puma::Events.new(StringIO.new, StringIO.new), min_threads: 0, max_threads: 8)
        listener = server.add_tcp_listener(host, port)
        thread = server.run
        Handle.new(host, listener.addr[1], lambda {
          server.stop(true)
          thread.join(5)
        })
      end

      def start_webrick(app, host, port)
        require "webrick"
        server = WEBrick::HTTPServer.new(BindAddress: host, Port: port, AccessLog: [],
                                         Logger: WEBrick::Log.new(StringIO.new))
        server.mount("/", webrick_handler, app)
        thread = Thread.new { server.start }
        Handle.new(host, server.config[:Port], lambda {
          server.shutdown
          thread.join(5)
        })
      end

      # Rack 2 ships the WEBrick adapter; Rack 3 moved it to the rackup gem.
      def webrick_handler
        require "rack/handler/webrick"
        Rack::Handler::WEBrick
      rescue LoadError
        require "rackup/handler/webrick"
        Rackup::Handler::WEBrick
      end

      # Blocks until INT or TERM (a self-pipe: a signal handler may not take locks).
      def wait_for_signal
        reader, writer = IO.pipe
        wake = proc { writer.write_nonblock(".", exception: false) }
        previous = %w[INT TERM].to_h { |signal| [signal, trap(signal, &wake)] }
        reader.read(1)
      ensure
        previous&.each { |signal, handler| trap(signal, handler || "DEFAULT") }
        [reader, writer].each { |io| io&.close }
      end

      def warn_if_exposed(app, host, out)
        return if LOOPBACK.include?(host.to_s)

        out.puts "warning: the dashboard listens on #{host} and has no authentication of its own" \
                 "#{app.actions_enabled? ? " (and actions are enabled)" : ""}; put it behind one " \
                 "(see docs/dashboard.md)"
      end
    end
  end
end
