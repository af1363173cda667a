# frozen_string_literal: true

require "pg"
require "uri"

module Bench
  # The PostgreSQL the bench measures: a private cluster started by bin/bench (BENCH_ADMIN_URL),
  # in which every run gets fresh databases, or a database the user gave (BENCH_DATABASE_URL),
  # used for everything and wiped.
  class Database
    TASKER_DB = "tasker_bench"
    DJ_DB = "bench_delayed_job"

    attr_reader :tasker_url, :dj_url

    def initialize(env = ENV)
      @given = env["BENCH_DATABASE_URL"]
      @admin_url = env["BENCH_ADMIN_URL"]
      raise "bin/bench sets BENCH_ADMIN_URL or BENCH_DATABASE_URL; run bin/bench, not bench/run.rb" unless
        @given || @admin_url

      @tasker_url = @given || url_for(TASKER_DB)
      @dj_url = @given || url_for(DJ_DB)
    end

    def private_cluster?
      @given.nil?
    end

    def data_dir
      ENV.fetch("BENCH_PG_DATA", nil)
    end

    def redacted(url = @tasker_url)
      url.sub(%r{//([^:/@]*):[^@]*@}, '//\1:***@')
    end

    # Fresh, empty databases for this run (private cluster only).
    def recreate!
      return unless private_cluster?

      with_admin do |conn|
        [TASKER_DB, DJ_DB].each do |name|
          conn.exec("DROP DATABASE IF EXISTS #{conn.quote_ident(name)} WITH (FORCE)")
          conn.exec("CREATE DATABASE #{conn.quote_ident(name)}")
        end
      end
    end

    def connect(url = @tasker_url, name: "bench")
      conn = PG.connect(url, application_name: name)
      conn.set_notice_processor { |_| nil }
      conn
    end

    def with(url = @tasker_url, name: "bench")
      conn = connect(url, name: name)
      yield conn
    ensure
      conn&.close
    end

    def with_admin(&)
      with(@admin_url || @tasker_url, name: "bench admin", &)
    end

    # Server facts for the report.
    def server_info
      with do |conn|
        names = %w[fsync synchronous_commit full_page_writes wal_sync_method shared_buffers max_connections wal_level]
        settings = names.to_h { |n| [n, conn.exec_params("SELECT current_setting($1)", [n]).getvalue(0, 0)] }
        { "version" => conn.exec("SHOW server_version").getvalue(0, 0), "settings" => settings }
      end
    end

    # A fresh database of the private cluster; its URL.
    def create_database(name)
      raise "only on the bench's private cluster" unless private_cluster?

      with_admin do |conn|
        conn.exec("DROP DATABASE IF EXISTS #{conn.quote_ident(name)} WITH (FORCE)")
        conn.exec("CREATE DATABASE #{conn.quote_ident(name)}")
      end
      url_for(name)
    end

    def drop_database(name)
      with_admin { |conn| conn.exec("DROP DATABASE IF EXISTS #{conn.quote_ident(name)} WITH (FORCE)") }
    end

    def url_for(dbname)
      uri = URI.parse(@admin_url)
      uri.path = "/#{dbname}"
      uri.to_s
    end
  end
end
