# frozen_string_literal: true

# One delayed_job worker process (Delayed::Worker, one job at a time, as delayed_job runs).
#   BENCH_DJ_URL=postgresql://... BENCH_DJ_SLEEP=0.1 ruby bench/peers/delayed_job_worker.rb

$stdout.sync = true
require_relative "delayed_job_app"

BenchDelayedJob.connect(ENV.fetch("BENCH_DJ_URL"), pool: 2)
Delayed::Worker.sleep_delay = Float(ENV.fetch("BENCH_DJ_SLEEP", "0.1"))
worker = Delayed::Worker.new(quiet: true)
ActiveRecord::Base.connection.execute("SELECT 1")
puts "ready #{Process.pid}"
worker.start # traps TERM and INT, returns after the job at hand
